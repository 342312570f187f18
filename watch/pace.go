package watch

import (
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// paceStreak is how many events in a row, each within Options.Pace of the
// one before, make a stream: a file's rewrite (two events) is not one, a
// writer making files is.
const paceStreak = 3

// pacer decides when Run holds its intake. It belongs to Run's goroutine.
type pacer struct {
	pace   time.Duration
	clock  Clock
	last   time.Time
	streak int
	holds  *atomic.Int64 // counted for tests
}

// seen records one event and reports whether the events form a stream.
func (p *pacer) seen() bool {
	if p.pace <= 0 {
		return false
	}
	now := p.clock.Now()
	if now.Sub(p.last) < p.pace {
		p.streak++
	} else {
		p.streak = 0
	}
	p.last = now
	return p.streak >= paceStreak
}

// hold holds the intake for p.pace, then restarts the streak's clock, so
// that the events queued meanwhile count as following on at once.
func (p *pacer) hold() {
	holdThread(p.pace)
	p.last = p.clock.Now()
	if p.holds != nil {
		p.holds.Add(1)
	}
}

// holdThread sleeps d without telling the Go scheduler. A goroutine that
// waits the usual way (time.Sleep, a channel) leaves the thread to the
// scheduler, which waits in epoll_wait, and the kernel then wakes it for
// every inotify event a writer makes: fsnotify's reader reads one event,
// the watcher takes it, the thread sleeps again, one context switch per
// event. Sleeping in nanosleep(2) directly keeps the processor busy, so
// nothing waits on epoll and the kernel queues the events until the
// sleep ends; they are then read in one go. With GOMAXPROCS=1 (the
// daemon's default) this holds every goroutine for d, which is the point;
// with more, other processors go on taking events and it helps little.
func holdThread(d time.Duration) {
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	for {
		// A signal (the scheduler's preemption among them) ends the sleep
		// early with EINTR; the time left is written back to ts.
		_, _, errno := syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0)
		if errno != syscall.EINTR {
			return
		}
	}
}
