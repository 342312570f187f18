package watch

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// MountChanges reports changes of the process's mount table: the kernel
// marks /proc/self/mountinfo with POLLPRI whenever a filesystem is mounted
// or unmounted (proc(5)). Each change sends a value on the returned
// channel (without waiting: one pending value stands for any number of
// changes) until ctx ends. A goroutine waits in poll(2) for it.
func MountChanges(ctx context.Context) (<-chan struct{}, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("watching the mount table: %w", err)
	}
	// A pipe ends the wait when ctx ends.
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		f.Close()
		return nil, fmt.Errorf("watching the mount table: %w", err)
	}
	changes := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		_ = unix.Close(p[1])
	}()
	go func() {
		defer f.Close()
		defer unix.Close(p[0])
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLPRI}, {Fd: int32(p[0]), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || fds[1].Revents != 0 {
				return
			}
			// The poll itself acknowledges the change (the kernel notes
			// which table generation this file has seen).
			if fds[0].Revents&(unix.POLLPRI|unix.POLLERR) != 0 {
				select {
				case changes <- struct{}{}:
				default:
				}
			}
		}
	}()
	return changes, nil
}
