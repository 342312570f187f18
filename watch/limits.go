package watch

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// hintError is a kernel error explained in words a sysadmin can act on;
// the errno stays reachable with errors.Is.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// readSysctl reads an inotify sysctl, e.g. "max_user_watches".
func readSysctl(name string) (int, error) {
	b, err := os.ReadFile("/proc/sys/fs/inotify/" + name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// limitHint says which inotify limit was reached and how to raise it,
// suggesting twice the current value when it can be read.
func limitHint(what, sysctl string, read func(string) (int, error)) string {
	key := "fs.inotify." + sysctl
	if n, err := read(sysctl); err == nil && n > 0 {
		return fmt.Sprintf("%s (%s=%d): raise it, e.g. sysctl -w %s=%d", what, key, n, key, 2*n)
	}
	return fmt.Sprintf("%s (%s): raise it with sysctl -w %s=N", what, key, key)
}

// addError wraps an error from adding a watch on dir. ENOSPC is the
// per-user watch limit.
func addError(dir string, err error, read func(string) (int, error)) error {
	if errors.Is(err, syscall.ENOSPC) {
		err = &hintError{msg: limitHint("inotify watch limit reached", "max_user_watches", read), err: err}
	}
	return fmt.Errorf("watch %s: %w", dir, err)
}

// initError wraps an error from creating the inotify instance for root.
// EMFILE is the per-user instance limit (or, more rarely, the process's
// open-file limit).
func initError(root string, err error, read func(string) (int, error)) error {
	if errors.Is(err, syscall.EMFILE) {
		msg := limitHint("inotify instance limit reached", "max_user_instances", read) +
			" (or raise the open-file limit, ulimit -n, if that is what ran out)"
		err = &hintError{msg: msg, err: err}
	}
	return fmt.Errorf("watch %s: %w", root, err)
}
