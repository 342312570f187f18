package rsync

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inosync/inosync/rsync/operand"
	"github.com/rs/zerolog"
)

// invocation is one planned rsync run: its command line, the file list
// it reads on standard input, and what to clean up once it is over.
type invocation struct {
	argv    []string
	env     []string // added to the daemon's environment
	stdin   []byte
	idle    time.Duration // kill a cold run that moves no data for this long (0: never; see watchIdle)
	cleanup func()
}

// run executes one run of j, the Job of js as the run started (or logs
// it, pretending), and returns its result. w, if not nil, is a warm rsync
// that takes the list; onTransferred is called when a warm run says its
// transfer is complete.
func (d *dispatcher) run(js *jobState, j Job, run running, w *warmRsync, onTransferred func()) result {
	paths, full, initial := run.paths, run.full, run.initial
	// A run that ends before its moves are copied gives their names back
	// too, to be sent by content (the moves themselves are gone).
	r := result{job: js, paths: paths, full: full, initial: initial, renamed: slices.Concat(run.renamed, movedTo(run.moves))}
	lg := d.o.Logger.With().Str("path", j.Path).Str("node", nodeName(j.Node)).Logger()
	inv, err := d.plan(j, run, w, lg)
	if err != nil {
		d.unused(w)
		r.err, r.exit = err, exitNotRun
		return r
	}
	defer inv.cleanup()
	st := d.settings(j, false)
	if d.o.Pretend {
		failed := d.copyMoves(j, st, run, lg)
		_, _, _ = d.sendByContent(j, st, run, slices.Concat(run.renamed, failed), lg)
		addWhat(lg.Info().Str("argv", Quote(inv.argv)), paths, full).Msg("would execute")
		if e := lg.Debug(); e.Enabled() && len(paths) > 0 {
			e.Strs("list", paths).Msg("would send")
		}
		return r
	}
	start := time.Now()
	// Copies and the pass by content only add files on the node, and only
	// from names the source holds: they may go before the guard.
	r.renamed = slices.Concat(run.renamed, d.copyMoves(j, st, run, lg))
	switch exit, output, err := d.sendByContent(j, st, run, r.renamed, lg); {
	case err == nil:
	case exit == exitPartial:
		// The run goes on: it meets the same files, and sets aside those
		// it cannot read; if it fails, its retry sends the names again.
		lg.Warn().Err(err).Str("output", lastLine(output)).Msg("some renamed files were not sent by content; the run goes on")
	default:
		// The run fails and is retried, these names with it: its quick
		// check would leave the other files on the node.
		d.unused(w)
		r.err, r.exit, r.stderr = err, exit, output
		r.took = time.Since(start)
		return r
	}
	// The source is checked last, right before rsync starts: planning
	// walks the tree for exclude functions, which may take long.
	if err := d.guard(j, full || initial); err != nil {
		d.unused(w)
		r.err, r.exit = err, exitRefused
		return r
	}
	slowDone := slowRunWarnings(lg, d.o.SlowRun, runWhat(paths, full, initial), stallEnd(initial, inv.idle, st.Timeout))
	var output string
	if w != nil {
		output, err = d.execWarm(w, inv.stdin, onTransferred)
	} else {
		output, err = d.execCold(inv)
	}
	slowDone()
	r.took = time.Since(start)
	r.exit, r.err = classify(err, inv.argv[0])
	if ie := (*idleError)(nil); errors.As(err, &ie) {
		r.exit, r.err = exitTimeout, ie
		output += "\n" + ie.Error() // the status shows the output's last line
	}
	r.stderr = output
	if r.exit == exitPartial {
		r.unreadable, _ = unreadablePaths(output, j.Path)
	}
	if r.err == nil { // a failure is logged once, by the dispatcher
		e := addStats(addWhat(lg.Info(), paths, full), output).Bool("warm", w != nil)
		if run.whole && !full {
			e = e.Bool("whole", true) // changed paths, synced by a walk of the whole tree
		}
		e.Int64("duration_ms", r.took.Milliseconds()).Int("exit", r.exit).Msg("rsync")
	}
	if e := lg.Debug(); e.Enabled() {
		e.Str("argv", Quote(inv.argv)).Strs("list", paths[:min(len(paths), 100)]).Str("output", r.stderr).Msg("rsync output")
	}
	return r
}

// plan builds the invocation of one run: 0.2.3's argv for the initial
// sync, a full rescan, or a list run (on w's command line when a warm
// rsync takes it), with ssh connection reuse after the initial run and
// the config's exclude functions handed over as --exclude-from.
func (d *dispatcher) plan(j Job, run running, w *warmRsync, lg zerolog.Logger) (invocation, error) {
	paths, initial := run.paths, run.initial
	inv := invocation{cleanup: func() {}}
	st := d.settings(j, initial)
	if initial {
		inv.env = initialEnv(st, j.Dest)
		inv.idle = initialIdle(st, j.Dest)
	}
	switch {
	case initial:
		inv.argv = Argv(st, j.Path, j.Dest)
	case run.whole:
		inv.argv = RescanArgv(st, j.Path, j.Dest)
	default:
		var prefix string
		inv.argv, prefix = ListArgv(st, j.Path, j.Dest)
		if w != nil {
			inv.argv, prefix = w.argv, w.prefix
		}
		inv.stdin = fileList(prefix, paths)
	}
	if len(run.exclude) > 0 {
		inv.argv = withRulesFirst(inv.argv, excludeOptions(j.Path, run.exclude))
	}
	if j.Exclude == nil || !(run.whole || hasDir(paths)) {
		return inv, nil
	}
	_, prefix := operand.Root(j.Path)
	pats, n := excludeList(filepath.Clean(j.Path), prefix, run.whole, paths, j.Exclude)
	if n == 0 {
		return inv, nil
	}
	file, err := writeExcludeFile(pats)
	if err != nil {
		return inv, err
	}
	inv.cleanup = func() { _ = os.Remove(file) }
	// rsync reads an --exclude-from file as it parses the option, with
	// the --from0 given before it: the file is NUL-separated, so --from0
	// comes first, and --no-from0 after it, so that an --exclude-from in
	// extra is read line by line as its author wrote it. A list run's own
	// --from0 for --files-from comes later on the command line.
	opts := []string{"--from0", "--exclude-from=" + file, "--no-from0"}
	// First: what the functions exclude wins over extra's and the
	// config's include rules, as in the watcher.
	inv.argv = withRulesFirst(inv.argv, opts)
	lg.Debug().Int("excluded", n).Msg("paths the config's exclude functions leave out")
	return inv, nil
}

// settings are job j's settings for a run: after the initial one, a run
// to a remote node reuses one ssh connection and has ssh's timeouts.
func (d *dispatcher) settings(j Job, initial bool) Settings {
	st := j.Settings
	if !initial && IsRemote(j.Dest) {
		st.Extra = withSSHOptions(st.Extra, d.o.SSHControlDir, st.sshTimeouts())
	}
	return st
}

// unused ends the warm rsync w (if any) handed to a run that does not
// happen; the run's process slot covers it until it has exited.
func (d *dispatcher) unused(w *warmRsync) {
	if w != nil {
		w.retire(d.kill.Done())
	}
}

// runWhat names a run for the slow-run warnings.
func runWhat(paths []string, full, initial bool) string {
	switch {
	case initial:
		return "initial full sync"
	case full:
		return "full sync"
	}
	return strconv.Itoa(len(paths)) + " paths"
}

// fileList is the list a list run reads on standard input: each path
// below the transfer root after prefix (see ListArgv), NUL-terminated.
func fileList(prefix string, paths []string) []byte {
	var b bytes.Buffer
	for _, p := range paths {
		b.WriteString(prefix)
		b.WriteString(strings.TrimSuffix(p, "/"))
		b.WriteByte(0)
	}
	return b.Bytes()
}

// execCold starts rsync for inv and waits for it; it returns the tail of
// its output and how it ended.
func (d *dispatcher) execCold(inv invocation) (output string, err error) {
	cmd := command(d.kill, inv.argv, inv.env)
	cmd.Stdin = bytes.NewReader(inv.stdin)
	return runToTemp(cmd, inv.idle)
}

// runToTemp starts cmd with its output going to an unlinked temp file,
// not a pipe (a process it leaves behind, such as an ssh ControlPersist
// master, inherits the output, and a pipe would keep Wait waiting until
// that process exits), waits for it, and returns the tail of its output
// and how it ended. With idle > 0, a process that moves no data for that
// long is killed, and err is an *idleError (see watchIdle).
func runToTemp(cmd *exec.Cmd, idle time.Duration) (output string, err error) {
	out, err := unlinkedTemp()
	if err != nil {
		return "", err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err = cmd.Start(); err == nil {
		stop := func() bool { return false }
		if idle > 0 {
			stop = watchIdle(cmd.Process.Pid, idle)
		}
		err = wait(cmd)
		if stop() {
			err = &idleError{idle}
		}
	}
	return outputTail(out), err
}

// execWarm hands the list to the warm rsync w and waits for it to exit; it
// returns the tail of its output and how it ended. onTransferred is called
// as soon as rsync says its transfer is complete, before it has exited.
func (d *dispatcher) execWarm(w *warmRsync, list []byte, onTransferred func()) (output string, err error) {
	defer w.out.Close()
	_, werr := w.stdin.Write(list)
	cerr := w.stdin.Close()
	exited := make(chan error, 1)
	go func() { exited <- wait(w.cmd) }()
	select {
	case <-w.transferred:
		onTransferred() // the paths may go again while rsync exits
		err = <-exited
	case err = <-exited:
	}
	w.drained(d.kill.Done())
	if err == nil {
		if herr := errors.Join(werr, cerr); herr != nil {
			err = fmt.Errorf("handing the list to rsync: %w", herr)
		}
	}
	return outputTail(w.out), err
}

// unlinkedTemp creates a temp file for a child's output or input and
// unlinks it at once: nothing is left behind, whatever happens to the
// daemon.
func unlinkedTemp() (*os.File, error) {
	f, err := os.CreateTemp("", "inosync-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("a temp file for a child process: %w", err)
	}
	_ = os.Remove(f.Name())
	return f, nil
}

// hasDir reports whether a list holds a directory to sync recursively.
func hasDir(paths []string) bool {
	for _, p := range paths {
		if strings.HasSuffix(p, "/") {
			return true
		}
	}
	return false
}

// tailMax bounds how much of rsync's output a result keeps: enough to
// say why it failed, however much it printed.
const tailMax = 8 << 10

// outputTail returns the last tailMax bytes written to f, trimmed.
func outputTail(f *os.File) string {
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-tailMax, 0)
	b := make([]byte, fi.Size()-off)
	k, _ := f.ReadAt(b, off)
	return strings.TrimSpace(string(b[:k]))
}
