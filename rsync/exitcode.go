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
	// exitSyntax: a syntax or usage error (an option rsync does not
	// know, in extra).
	exitSyntax = 1
	// exitProtocol: the two sides' protocols are incompatible.
	exitProtocol = 2
	// exitUnsupported: an action the other side does not support.
	exitUnsupported = 4
	// exitSocketIO: an error in socket I/O.
	exitSocketIO = 10
	// exitFileIO: an error in file I/O (a full disk on the node; its
	// first error says which file and why).
	exitFileIO = 11
	// exitStream: an error in the rsync protocol data stream (the
	// connection broke).
	exitStream = 12
	// exitPartial: some files were not transferred ("some files/attrs
	// were not transferred"; its errors say which).
	exitPartial = 23
	// exitVanished: some source files vanished before they could be
	// transferred. The change that removed them has an event of its own
	// and gets a run of its own, so this counts as success.
	exitVanished = 24
	// exitMaxDelete: --max-delete stopped the deletions, a refusal the
	// user asked for, held until the next change or resync rather than
	// retried.
	exitMaxDelete = 25
	// exitTimeout: rsync's own --timeout, which an idle kill stands for:
	// the node shows as unreachable.
	exitTimeout = 30
	// exitConnectTimeout: a timeout waiting for the daemon's connection.
	exitConnectTimeout = 35
	// exitRemoteShell: the remote shell (ssh) failed: the node could
	// not be reached, or its login was refused.
	exitRemoteShell = 255
	// exitNotExecutable: rsync or the remote shell is not executable.
	exitNotExecutable = 126
	// exitNotFound: rsync or the remote shell was not found.
	exitNotFound = 127
	// exitNotRun: rsync could not be started, or was ended by a signal
	// (os/exec reports -1 then).
	exitNotRun = -1
)

// configFault reports whether rsync's exit means that its command line or
// its setup is wrong, which retrying cannot mend.
func configFault(exit int) bool {
	switch exit {
	case exitSyntax, exitProtocol, exitUnsupported, exitNotExecutable, exitNotFound:
		return true
	}
	return false
}

// faultWords says in words what a configuration fault's exit means.
func faultWords(exit int) string {
	switch exit {
	case exitSyntax:
		return "rsync refused its command line (an option in extra or rsync it does not know?)"
	case exitProtocol:
		return "rsync's protocol does not match the other side's"
	case exitUnsupported:
		return "the other side does not support what rsync asked for"
	case exitNotExecutable:
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
