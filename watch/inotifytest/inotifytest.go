// Package inotifytest lets tests lower the kernel's inotify queue length,
// one test at a time across test processes, and puts it back.
package inotifytest

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

// QueueKnob is the sysctl that bounds a new inotify instance's queue.
const QueueKnob = "/proc/sys/fs/inotify/max_queued_events"

// lockFile serialises changes to the sysctl between test binaries (go test
// runs packages in parallel): without it one test could save another's
// lowered value and "restore" it.
const lockFile = "/tmp/inosync-inotifytest.lock"

// LowerQueue sets max_queued_events to n for inotify instances created
// until the returned restore is called (also called at cleanup). Other
// tests that call it wait until this test has ended. It skips the test
// when not root or when the sysctl cannot be written.
func LowerQueue(t testing.TB, n int) (restore func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to lower fs.inotify.max_queued_events")
	}
	lock, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Skipf("lock %s: %v", lockFile, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		_ = lock.Close()
		t.Skipf("lock %s: %v", lockFile, err)
	}
	old, err := os.ReadFile(QueueKnob)
	if err != nil {
		_ = lock.Close()
		t.Skip(err)
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		_ = os.WriteFile(QueueKnob, old, 0o644)
	}
	// The lock is kept until the test ends, not just until restore: an
	// instance the test makes later (a resync after an overflow) must not
	// get the queue another test has lowered meanwhile.
	t.Cleanup(func() {
		restore()
		_ = lock.Close() // releases the lock
	})
	if err := os.WriteFile(QueueKnob, []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		restore()
		t.Skipf("cannot lower %s: %v", QueueKnob, err)
	}
	return restore
}
