//go:build !race

package config

// raceSlowdown scales the default time limits (see race.go).
const raceSlowdown = 1
