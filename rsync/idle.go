package rsync

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// idleError is the failure of a run that moved no data for limit and was
// killed (see watchIdle).
type idleError struct{ limit time.Duration }

func (e *idleError) Error() string {
	return fmt.Sprintf("rsync moved no data for %v and was killed with its remote shell (the node hangs?); "+
		"the initial run keeps inosync 0.2.3's command line, so it has no --timeout of its own", e.limit)
}

// watchIdle is rsync's --timeout for a run whose command line cannot
// carry one (the initial run keeps 0.2.3's): it kills the process pid
// with everything below it once pid has read or written no byte (rchar
// and wchar of /proc/PID/io, pipes and sockets included) for limit. It
// looks every limit/10, from 100 ms to 5 s. stop ends the watch and
// reports whether it killed.
func watchIdle(pid int, limit time.Duration) (stop func() bool) {
	done, killed := make(chan struct{}), make(chan bool, 1)
	every := min(max(limit/10, 100*time.Millisecond), 5*time.Second)
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		last, err := ioBytes(pid)
		moved := time.Now()
		for {
			select {
			case <-done:
				killed <- false
				return
			case now := <-tick.C:
				n, nerr := ioBytes(pid)
				if nerr != nil || err != nil || n != last {
					last, err, moved = n, nerr, now
					continue
				}
				if now.Sub(moved) >= limit {
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
