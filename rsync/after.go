package rsync

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// AfterCommand is a command run after each successful run of a job (the
// config's after): an argv, never a shell. It gets the synced paths on
// standard input, NUL-separated, and INOSYNC_SOURCE, INOSYNC_NODE,
// INOSYNC_TARGET and INOSYNC_FULL in its environment. It is never
// retried, and the job's syncs never wait for it: the runs that succeed
// while it goes on are gathered, and the next command gets them all.
type AfterCommand struct {
	Argv    []string
	Timeout time.Duration // 0 = DefaultAfterTimeout
}

// DefaultAfterTimeout bounds an after command whose timeout is not set:
// it is killed, with every process it started, once that has passed.
const DefaultAfterTimeout = time.Minute

// afterState is a job's book on its after command. Only the dispatcher
// goroutine touches it.
type afterState struct {
	running bool
	// paths and full gather what the runs that succeeded since the last
	// command started have synced; queued says there are any.
	paths  map[string]struct{}
	full   bool
	queued bool
	// What the status shows: counts since the start, and the last end.
	runs, failed int
	lastEnd      time.Time
	lastErr      string // "" when the last command succeeded
	// lastFailEnd and lastFailErr are the last failure's, kept after
	// later successes.
	lastFailEnd time.Time
	lastFailErr string
}

// afterDone is an after command's end, reported to the loop.
type afterDone struct {
	job    *jobState
	argv   []string // the command that ran (a reload may have changed the job's since)
	paths  []string // what it was given
	full   bool
	err    error
	output string
	took   time.Duration
}

// AfterStatus is what the status shows of a job's after command.
type AfterStatus struct {
	Argv         []string
	Runs, Failed int
	Running      bool
	LastEnd      time.Time // when the last one ended; zero if none has
	LastError    string    // why the last one failed; "" when it succeeded
	// LastFailure and LastFailureError are the last failure's, also after
	// later successes; zero and "" when none has failed.
	LastFailure      time.Time
	LastFailureError string
	// Waiting counts the synced paths gathered for the next command;
	// WaitingFull: the next one is for the whole tree.
	Waiting     int
	WaitingFull bool
}

// queueAfter books a successful run for the job's after command and
// starts the command when none is running.
func (d *dispatcher) queueAfter(j *jobState, r result) {
	if j.After == nil || len(j.After.Argv) == 0 {
		return
	}
	if d.o.Pretend {
		lg := d.jobLogger(j)
		addWhat(lg.Info().Str("argv", Quote(j.After.Argv)), r.paths, r.full || r.initial).Msg("would execute the after command")
		return
	}
	a := &j.after
	a.queued = true
	if r.full || r.initial || a.full {
		a.full, a.paths = true, nil
	} else {
		if a.paths == nil {
			a.paths = map[string]struct{}{}
		}
		for _, p := range r.paths {
			a.paths[p] = struct{}{}
		}
		if d.o.MaxPending > 0 && len(a.paths) > d.o.MaxPending {
			a.full, a.paths = true, nil // as a job's own backlog: the whole tree
		}
	}
	d.startAfter(j)
}

// startAfter starts the job's after command for what is queued, unless
// one is running.
func (d *dispatcher) startAfter(j *jobState) {
	a := &j.after
	if a.running || !a.queued || !j.removed && d.replacedBusy(j, true) {
		return
	}
	if j.After == nil || len(j.After.Argv) == 0 || d.kill.Err() != nil {
		// A reload took the command away, or the stop timeout has
		// passed: what was queued is dropped, and said so.
		var paths []string
		if !a.full {
			paths = collapse(a.paths)
		}
		lg := d.jobLogger(j)
		withPaths(lg.Warn(), paths, a.full).Msg("synced paths not passed to an after command: a reload removed it, or inosync stops now")
		a.paths, a.full, a.queued = nil, false, false
		return
	}
	var paths []string
	if !a.full {
		paths = collapse(a.paths)
	}
	full := a.full
	a.paths, a.full, a.queued, a.running = nil, false, false, true
	d.afterRunning++
	job := j.Job
	go func() {
		start := time.Now()
		out, err := d.execAfter(job, paths, full)
		report(d, d.afterDone, afterDone{job: j, argv: job.After.Argv, paths: paths, full: full, err: err, output: out, took: time.Since(start)})
	}()
}

// finishAfter books the end of a job's after command, says how it went,
// and starts the next one if runs succeeded meanwhile.
func (d *dispatcher) finishAfter(r afterDone) {
	d.afterRunning--
	j := r.job
	a := &j.after
	a.running = false
	a.runs++
	a.lastEnd = time.Now()
	lg := d.jobLogger(j)
	if r.err != nil {
		a.failed++
		a.lastErr = r.err.Error()
		if line := lastLine(r.output); line != "" {
			a.lastErr += ": " + line
		}
		a.lastFailEnd, a.lastFailErr = a.lastEnd, a.lastErr
		msg := "the after command failed; it is not retried (syncing goes on): these paths were synced without it"
		if d.kill.Err() != nil {
			msg = "the after command was killed at the stop; these paths were synced without it"
		}
		withPaths(lg.Error().Err(r.err).Strs("after", r.argv).Str("output", r.output).Int64("duration_ms", r.took.Milliseconds()), r.paths, r.full).
			Msg(msg)
	} else {
		a.lastErr = ""
		e := addWhat(lg.Info().Strs("after", r.argv).Int64("duration_ms", r.took.Milliseconds()), r.paths, r.full)
		if r.output != "" {
			e = e.Str("output", r.output)
		}
		e.Msg("the after command ran")
	}
	d.notify()
	if !j.removed {
		d.startAfter(j)
		return
	}
	// The tree or node added back may have one waiting for this one.
	for _, k := range d.jobs {
		if !k.removed && k.Path == j.Path && k.Dest == j.Dest {
			d.startAfter(k)
		}
	}
}

// execAfter runs j's after command for the synced paths (full: the whole
// tree) and waits for it, at most its timeout and afterWaitDelay; it
// returns the tail of its output and how it ended. The command's
// environment is the daemon's with INOSYNC_SOURCE, INOSYNC_NODE ("" for a
// local target), INOSYNC_TARGET and INOSYNC_FULL ("1" or "0") added. Its
// standard input and output are unlinked temp files, not pipes, so that a
// process it leaves behind holding them cannot hold the wait up (see
// runToTemp).
func (d *dispatcher) execAfter(j Job, paths []string, full bool) (string, error) {
	timeout := j.After.Timeout
	if timeout <= 0 {
		timeout = DefaultAfterTimeout
	}
	ctx, cancel := context.WithTimeout(d.kill, timeout)
	defer cancel()
	fullVal := "0"
	if full {
		fullVal = "1"
	}
	cmd := command(ctx, j.After.Argv, []string{
		"INOSYNC_SOURCE=" + j.Path, "INOSYNC_NODE=" + j.Node, "INOSYNC_TARGET=" + j.Dest, "INOSYNC_FULL=" + fullVal,
	})
	cmd.WaitDelay = afterWaitDelay
	in, err := pathList(paths)
	if err != nil {
		return "", err
	}
	defer in.Close()
	cmd.Stdin = in
	out, err := runToTemp(cmd, 0)
	return out, afterError(err, ctx, timeout)
}

// afterWaitDelay bounds the wait for an after command once it has exited
// or been killed (see exec.Cmd.WaitDelay).
const afterWaitDelay = 5 * time.Second

// pathList is an unlinked temp file holding the paths, each ended by a
// NUL byte (a directory synced with all below it ends in '/'), read from
// its start.
func pathList(paths []string) (*os.File, error) {
	f, err := unlinkedTemp()
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	for _, p := range paths {
		w.WriteString(p)
		w.WriteByte(0)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("the after command's path list: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("the after command's path list: %w", err)
	}
	return f, nil
}

// afterError says how an after command ended: nil on exit 0, else its
// exit status, the signal that killed it, or the timeout that did.
func afterError(err error, ctx context.Context, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("killed after its timeout of %v", timeout)
	case ctx.Err() != nil:
		return errors.New("killed at the stop")
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Errorf("killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
		}
		return fmt.Errorf("exited with %d", ee.ExitCode())
	}
	return fmt.Errorf("cannot run it: %w", err)
}

// status is what the status shows of the after command; nil without one.
func (a *afterState) status(cmd *AfterCommand) *AfterStatus {
	if cmd == nil {
		return nil
	}
	return &AfterStatus{Argv: cmd.Argv, Runs: a.runs, Failed: a.failed, Running: a.running, LastEnd: a.lastEnd, LastError: a.lastErr,
		LastFailure: a.lastFailEnd, LastFailureError: a.lastFailErr, Waiting: len(a.paths), WaitingFull: a.queued && a.full}
}

// loggedPaths bounds the paths that a log line of an after command names.
const loggedPaths = 100

// withPaths adds what an after command was (or would have been) given:
// the count and the first loggedPaths paths, or full.
func withPaths(e *zerolog.Event, paths []string, full bool) *zerolog.Event {
	e = addWhat(e, paths, full)
	if !full {
		e = e.Strs("paths", paths[:min(len(paths), loggedPaths)])
	}
	return e
}
