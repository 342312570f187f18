//go:build profile

package main

import (
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/rs/zerolog"
)

// profiling says whether INOSYNC_CPUPROFILE and INOSYNC_MEMPROFILE work:
// only in a binary built with -tags profile (make build-profile). The
// release binary leaves runtime/pprof out, and with it the runtime's
// sampling of allocations and the memory it holds (bench/findings.md).
const profiling = true

// startCPUProfile writes a pprof CPU profile of the daemon to path until
// the returned function is called (INOSYNC_CPUPROFILE, for finding where
// the time goes; see docs/benchmarks.md).
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// writeHeapProfile writes a pprof heap profile of the daemon to path
// (INOSYNC_MEMPROFILE: written once every tree is watched, it shows what
// the watch tables keep; see docs/benchmarks.md).
func writeHeapProfile(path string, lg zerolog.Logger) {
	runtime.GC()
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		lg.Error().Err(err).Msg("cannot write the heap profile")
	}
}
