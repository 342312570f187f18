package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// useOneProcessor sets GOMAXPROCS to 1, making the daemon run its goroutines on one processor unless
// GOMAXPROCS is set, and reports whether it runs on one. The daemon waits
// on the kernel and on rsync, which does the work in processes of its own;
// with more processors every hand-off of an event between goroutines wakes
// another thread, which costs more than the event.
func useOneProcessor() bool {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	return runtime.GOMAXPROCS(0) == 1
}

// walkGCPercent is the garbage collector's target (GOGC) while the trees
// are walked at start, unless GOGC is set. The walks keep most of what
// they allocate (the watch tables), and what they do not keep is the
// kernel interface's copies of paths: collecting often keeps the peak
// near what is kept, and the extra cycles are cheap while the heap is
// small.
const walkGCPercent = 10

// lowGCDuring sets the GC target to walkGCPercent, unless GOGC is set, and
// returns the function that puts it back (the first time it is called).
func lowGCDuring() func() {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(walkGCPercent)
	return sync.OnceFunc(func() { debug.SetGCPercent(old) })
}

// releaseWalkGarbage collects the garbage the walks made (fsnotify's and
// the kernel interface's copies of paths) and returns it to the OS now,
// not at the next GC cycle, so that the daemon's resident memory is what
// it keeps.
func releaseWalkGarbage() { debug.FreeOSMemory() }
