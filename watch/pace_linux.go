package watch

import (
	"syscall"
	"time"
	"unsafe"
)

// holdThread sleeps d without telling the Go scheduler. A goroutine that
// waits the usual way (time.Sleep, a channel) leaves the thread to the
// scheduler, which waits in epoll_wait, and the kernel then wakes it for
// every inotify event a writer makes: fsnotify's reader reads one event,
// the watcher takes it, the thread sleeps again, one context switch per
// event. Sleeping in nanosleep(2) directly keeps the processor busy, so
// nothing waits on epoll and the kernel queues the events until the
// sleep ends; they are then read in one go. With GOMAXPROCS=1 (the
// daemon's default) this holds every goroutine for d, which is the point;
// with more, other processors go on taking events and it helps little,
// and a garbage collection that must stop the world waits for the sleep.
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
