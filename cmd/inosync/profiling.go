package main

import (
	"errors"
	"os"
	"runtime"

	"github.com/rs/zerolog"
)

// startProfiling starts what INOSYNC_CPUPROFILE and INOSYNC_MEMPROFILE
// ask for, in a binary built with profiling (make build-profile), and
// returns the function that stops it. The heap profile itself is written
// once the trees are watched (writeHeapProfileIfAsked).
func startProfiling() (stop func(), err error) {
	stop = func() {}
	if path := os.Getenv("INOSYNC_CPUPROFILE"); path != "" {
		if stop, err = startCPUProfile(path); err != nil {
			return nil, err
		}
	}
	if os.Getenv("INOSYNC_MEMPROFILE") != "" {
		if !profiling {
			stop()
			return nil, errors.New("INOSYNC_MEMPROFILE: this binary was built without profiling (make build-profile)")
		}
		runtime.MemProfileRate = 1 // every allocation, for exact figures
	}
	return stop, nil
}

// writeHeapProfileIfAsked writes the heap profile that INOSYNC_MEMPROFILE
// names, if it is set: serve calls it once the trees are watched.
func writeHeapProfileIfAsked(lg zerolog.Logger) {
	if path := os.Getenv("INOSYNC_MEMPROFILE"); path != "" {
		writeHeapProfile(path, lg)
	}
}
