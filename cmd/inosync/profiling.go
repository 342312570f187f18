package main

import (
	"errors"
	"os"
	"runtime"
)

// startProfiling starts what INOSYNC_CPUPROFILE and INOSYNC_MEMPROFILE
// ask for, in a binary built with profiling (make build-profile), and
// returns the function that stops it. The heap profile itself is written
// once the trees are watched (serve).
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
