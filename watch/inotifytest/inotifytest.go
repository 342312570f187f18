// Package inotifytest lets tests lower the kernel's inotify (and
// fanotify) queue length, one test at a time across test processes, and
// puts it back, also after a test process that was killed before it
// could.
package inotifytest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// QueueKnob is the sysctl that bounds a new inotify instance's queue.
const QueueKnob = "/proc/sys/fs/inotify/max_queued_events"

// Knob is a sysctl that bounds the queue of an instance made after it
// changed, and the file that keeps its own value while a test has
// lowered it.
type Knob struct{ path, saved string }

// The knobs of inotify (LowerQueue) and fanotify.
var (
	Inotify  = Knob{QueueKnob, "/tmp/inosync-inotifytest.saved"}
	Fanotify = Knob{"/proc/sys/fs/fanotify/max_queued_events", "/tmp/inosync-inotifytest-fanotify.saved"}
)

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
	return Inotify.Lower(t, n)
}

// Lower is LowerQueue for knob k (the lock is one for both knobs). The
// saved value sits in k.saved while it is lowered, so that a test process
// killed before its cleanup leaves what to put back.
func (k Knob) Lower(t testing.TB, n int) (restore func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root to lower %s", k.path)
	}
	lock, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Skipf("lock %s: %v", lockFile, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		_ = lock.Close()
		t.Skipf("lock %s: %v", lockFile, err)
	}
	if err := k.putBack(); err != nil {
		_ = lock.Close()
		t.Fatal(err)
	}
	old, err := os.ReadFile(k.path)
	if err != nil {
		_ = lock.Close()
		t.Skip(err)
	}
	if err := os.WriteFile(k.saved, old, 0o600); err != nil {
		_ = lock.Close()
		t.Skipf("cannot save %s: %v", k.path, err)
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		if err := os.WriteFile(k.path, old, 0o644); err == nil {
			_ = os.Remove(k.saved)
		}
	}
	// The lock is kept until the test ends, not just until restore: an
	// instance the test makes later (a resync after an overflow) must not
	// get the queue another test has lowered meanwhile.
	t.Cleanup(func() {
		restore()
		_ = lock.Close() // releases the lock
	})
	if err := os.WriteFile(k.path, []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		restore()
		t.Skipf("cannot lower %s: %v", k.path, err)
	}
	return restore
}

// RestoreLeftover puts back the sysctls that a killed test process left
// lowered. It waits for a test in another process that is lowering it now
// (that one puts it back itself). TestMain calls it before the tests run.
func RestoreLeftover() error {
	if os.Geteuid() != 0 {
		return nil
	}
	lock, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock %s: %w", lockFile, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", lockFile, err)
	}
	return errors.Join(Inotify.putBack(), Fanotify.putBack())
}

// putBack writes k's saved value back, if there is one; the caller holds
// the lock.
func (k Knob) putBack() error {
	saved, err := os.ReadFile(k.saved)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", k.saved, err)
	}
	if err := os.WriteFile(k.path, saved, 0o644); err != nil {
		return fmt.Errorf("put back %s left lowered by a killed test: %w", k.path, err)
	}
	return os.Remove(k.saved)
}
