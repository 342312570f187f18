//go:build race

package config

// raceSlowdown scales the default time limits in a race-detector build,
// where Starlark runs about ten times slower: the step limit stays the
// first to stop a runaway loop, as in a real build.
const raceSlowdown = 10
