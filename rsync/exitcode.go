package rsync

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
)

// rsync's exit codes that the dispatcher tells apart (rsync(1), EXIT
// VALUES). Every other code is a failure, retried with backoff.
const (
	// exitOK: the transfer is complete.
	exitOK = 0
	// exitVanished: some source files vanished before they could be
	// transferred. The change that removed them has an event of its own
	// and gets a run of its own, so this counts as success.
	exitVanished = 24
	// exitNotRun: rsync could not be started, or was ended by a signal
	// (os/exec reports -1 then).
	exitNotRun = -1
)

// configFault reports whether rsync's exit means that its command line or
// its setup is wrong, which retrying cannot mend: 1 (a syntax or usage
// error: an option rsync does not know, in extra), 2 (protocol
// incompatibility), 4 (an action the other side does not support), 126
// and 127 (rsync or the remote shell not executable or not found).
func configFault(exit int) bool {
	switch exit {
	case 1, 2, 4, 126, 127:
		return true
	}
	return false
}

// faultWords says in words what a configuration fault's exit means.
func faultWords(exit int) string {
	switch exit {
	case 1:
		return "rsync refused its command line (an option in extra or rsync it does not know?)"
	case 2:
		return "rsync's protocol does not match the other side's"
	case 4:
		return "the other side does not support what rsync asked for"
	case 126:
		return "rsync or the remote shell is not executable"
	}
	return "rsync or the remote shell was not found (on the node?)"
}

// classify turns how an rsync process ended (err from starting and
// waiting for it) into the run's exit code and its failure, nil when the
// run counts as a success.
func classify(err error, rsyncPath string) (exit int, failure error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return exitOK, nil
	case errors.As(err, &ee):
		exit = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitNotRun, fmt.Errorf("rsync was killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
		}
		if exit == exitVanished {
			return exit, nil
		}
		return exit, fmt.Errorf("rsync exited with %d", exit)
	}
	return exitNotRun, fmt.Errorf("cannot run %s: %w", rsyncPath, err)
}
