package watch

import (
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/rs/zerolog"
)

// cwdSwitch lends a Watcher with Options.RelativePaths the process's
// working directory for its walks: enter moves it to the root, so that the
// relative paths the walk opens and hands to fsnotify resolve there, and
// leave moves it back. Between walks the working directory is where it
// was, so the root is not held: removing it still gives IN_DELETE_SELF at
// once, and its file system can still be unmounted. Only the goroutine
// that walks (New, then Run) uses it.
type cwdSwitch struct {
	root     string
	dev, ino uint64        // the root's, when the Watcher was made
	lock     *sync.RWMutex // Options.CwdLock, held for writing during a walk; may be nil
	back     int           // the working directory to return to, during a walk; -1 outside
}

// cwdError is a failure to make the root the working directory for a walk.
type cwdError struct{ err error }

func (e *cwdError) Error() string { return e.err.Error() }
func (e *cwdError) Unwrap() error { return e.err }

// newCwdSwitch returns the switch for root, whose FileInfo (from os.Stat)
// is fi.
func newCwdSwitch(root string, fi os.FileInfo, lock *sync.RWMutex) (*cwdSwitch, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("watch %s: relative paths: no device and inode number for the root", root)
	}
	return &cwdSwitch{root: root, dev: uint64(st.Dev), ino: uint64(st.Ino), lock: lock, back: -1}, nil
}

// enter makes the root the working directory, after checking that it is
// still the directory the Watcher was made for (a root moved away and
// replaced by another directory must not be walked as if it were the old
// one: the watches would mix the two). It fails with a *cwdError.
func (c *cwdSwitch) enter() error {
	if c.lock != nil {
		c.lock.Lock()
	}
	back, err := syscall.Open(".", backFlags, 0)
	if err != nil {
		c.unlock()
		return &cwdError{fmt.Errorf("cannot hold on to the working directory to come back to: %w", err)}
	}
	if err := syscall.Chdir(c.root); err != nil {
		_ = syscall.Close(back)
		c.unlock()
		return &cwdError{&os.PathError{Op: "chdir", Path: c.root, Err: err}}
	}
	c.back = back
	var st syscall.Stat_t
	if err := syscall.Stat(".", &st); err != nil || uint64(st.Dev) != c.dev || uint64(st.Ino) != c.ino {
		c.leave(zerolog.Nop())
		return &cwdError{fmt.Errorf("%s is no longer the directory that was watched (moved away or replaced); restart inosync to watch the new one", c.root)}
	}
	return nil
}

// leave moves the working directory back to where enter found it (to /
// if that is gone), logging a failure.
func (c *cwdSwitch) leave(lg zerolog.Logger) {
	if c.back < 0 {
		return
	}
	if err := syscall.Fchdir(c.back); err != nil {
		lg.Error().Str("path", c.root).Err(err).Msg("cannot return to the working directory after a walk; moving to /")
		_ = syscall.Chdir("/")
	}
	_ = syscall.Close(c.back)
	c.back = -1
	c.unlock()
}

func (c *cwdSwitch) unlock() {
	if c.lock != nil {
		c.lock.Unlock()
	}
}
