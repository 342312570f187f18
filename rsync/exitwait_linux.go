package rsync

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit returns once the process pid has exited (it is not reaped:
// exec.Cmd.Wait does that, at once, afterwards), waiting in the Go
// runtime's network poller on a pidfd. os/exec's own Wait blocks a thread
// in waitid(2) for the whole run, and a system call that blocks makes the
// runtime's monitor thread (sysmon) take back the processor and poll
// every 20 µs again for a while: in a slow stream of changes that polling
// would be most of the daemon's CPU time (bench/findings.md). Where pidfds
// cannot be polled (Linux before 5.10), it returns at once and Wait
// blocks in waitid.
func awaitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		return err != nil || n > 0
	})
}
