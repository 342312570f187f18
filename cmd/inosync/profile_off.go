//go:build !profile

package main

import (
	"errors"

	"github.com/rs/zerolog"
)

// profiling says whether INOSYNC_CPUPROFILE and INOSYNC_MEMPROFILE work:
// not in this build (make build-profile makes one where they do).
const profiling = false

// startCPUProfile fails: this binary was built without profiling.
func startCPUProfile(string) (func(), error) {
	return nil, errors.New("INOSYNC_CPUPROFILE: this binary was built without profiling (make build-profile)")
}

// writeHeapProfile is never called without profiling (daemon refuses
// INOSYNC_MEMPROFILE first).
func writeHeapProfile(string, zerolog.Logger) {}
