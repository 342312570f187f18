package rsync

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// idleError is the failure of a run that never got going and was killed
// (see watchIdle).
type idleError struct{ limit time.Duration }

func (e *idleError) Error() string {
	return fmt.Sprintf("rsync and its remote shell moved no data for %v after their start and were killed (the node accepts connections but does not answer?); "+
		"the initial run keeps inosync 0.2.3's command line, so it has no --timeout of its own", e.limit)
}

// watchIdle catches the run that hangs from its start, for a run whose
// command line cannot carry rsync's --timeout (the initial run keeps
// 0.2.3's): a node that accepts the connection and never answers. It
// reads the bytes that process pid and every process below it (its
// remote shell; rsync itself, below a wrapper) have read and written
// (rchar and wchar of /proc/PID/io, pipes and sockets included), first
// after a second or limit/10 (at most 5 s), when the start-up is over,
// and then every limit/10 (100 ms to 5 s). If they never change from that first reading for limit, the
// processes are killed; at the first change the run is under way and
// the watch ends: without --timeout rsync sends no keepalives, and a
// healthy run may be silent for long while the other side checks or
// deletes. stop ends the watch and reports whether it killed.
func watchIdle(pid int, limit time.Duration) (stop func() bool) {
	done, killed := make(chan struct{}), make(chan bool, 1)
	every := min(max(limit/10, 100*time.Millisecond), 5*time.Second)
	go func() {
		tick := time.NewTimer(max(every, time.Second))
		defer tick.Stop()
		var first uint64
		var since time.Time
		for {
			select {
			case <-done:
				killed <- false
				return
			case now := <-tick.C:
				tick.Reset(every)
				n, err := treeIO(pid)
				switch {
				case err != nil:
					killed <- false // cannot tell: never kill blind
					return
				case since.IsZero():
					first, since = n, now
				case n != first:
					killed <- false // under way
					return
				case now.Sub(since) >= limit:
					_ = killTree(pid)
					killed <- true
					return
				}
			}
		}
	}()
	return func() bool {
		close(done)
		return <-killed
	}
}

// treeIO is how many bytes process pid and the processes below it have
// read and written so far.
func treeIO(pid int) (uint64, error) {
	n, err := ioBytes(pid)
	if err != nil {
		return 0, err
	}
	for _, p := range descendants(pid) {
		if k, err := ioBytes(p); err == nil { // one that just exited counts no more
			n += k
		}
	}
	return n, nil
}

// ioBytes is how many bytes process pid has read and written so far.
func ioBytes(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, key := range []string{"rchar: ", "wchar: "} {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return 0, fmt.Errorf("/proc/%d/io has no %q", pid, key)
		}
		v := b[i+len(key):]
		if j := bytes.IndexByte(v, '\n'); j >= 0 {
			v = v[:j]
		}
		k, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/io: %w", pid, err)
		}
		n += k
	}
	return n, nil
}
