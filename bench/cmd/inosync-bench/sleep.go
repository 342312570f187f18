package main

import (
	"syscall"
	"time"
)

// pollSleep sleeps d in nanosleep(2) itself. time.Sleep cannot poll finer
// than about 1 ms here: when nothing else is runnable the Go scheduler
// waits in epoll_wait, whose timeout is in whole milliseconds, so a
// 250 µs time.Sleep takes 1.02-1.08 ms, and a latency read back "every
// 250 µs" would be rounded up to the next millisecond.
func pollSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
