package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
	"github.com/inosync/inosync/rsync/filter"
	"github.com/inosync/inosync/watch"
)

// minDelay is the shortest batch: "edelay = 0" hands a change on 1 ms after
// it was seen, so that the events of one write (a truncating open, then the
// write; a create, then the write) go in one rsync run, not two. fsnotify
// delivers no IN_CLOSE_WRITE to wait for instead; but a lone change whose
// files nobody has open for writing any more goes at once
// (watch.CoalesceOptions.Settled).
const minDelay = time.Millisecond

// intakePace is watch.Options.Pace when the daemon runs on one processor:
// in a stream of events (from the fourth event each within 5 ms of the one
// before; a rewrite's two events are not one), the kernel queues them for
// 5 ms at a time instead of waking the daemon for each. A writer making
// 10,000 files in 500 new dirs over 5-8 s: 31,000 context switches and
// 1.32 s of daemon CPU when paced at 500 µs, 7,500 and 0.17 s at 5 ms
// (docs/benchmarks.md). A change in a stream waits up to 5 ms more; a
// lone change does not wait.
const intakePace = 5 * time.Millisecond

// oneProcessor makes the daemon run its goroutines on one processor unless
// GOMAXPROCS is set. It waits on the kernel and on rsync, which does the
// work in processes of its own; with more processors every hand-off of an
// event between goroutines wakes another thread, which costs more than the
// event. It returns whether the daemon runs on one processor.
func oneProcessor() bool {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	return runtime.GOMAXPROCS(0) == 1
}

// walkGCPercent is the garbage collector's target (GOGC) while the trees are
// walked at start, unless GOGC is set: 10 instead of 100 took the peak RSS
// of a 50,000-dir tree from 17.0-17.7 to 16.0-16.1 MiB; the extra cycles
// are cheap, as the heap is still small.
const walkGCPercent = 10

// lowGCDuring sets the GC target to walkGCPercent, unless GOGC is set, and
// returns the function that puts it back (the first time it is called).
func lowGCDuring() func() {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(walkGCPercent)
	return sync.OnceFunc(func() { debug.SetGCPercent(old) })
}

// stopTimeout bounds the final flush on SIGTERM/SIGINT.
const stopTimeout = time.Minute

// daemon runs the watchers, coalescers and the rsync dispatcher until
// SIGTERM or SIGINT, then flushes what is pending and returns the exit
// status: 0 when everything seen was synced.
func daemon(o *options, cfg *config.Config, stderr io.Writer) int {
	if o.daemon && !o.detached {
		return detach(stderr)
	}
	lg, closeLog, err := newLogger(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "inosync: %v\n", err)
		return 1
	}
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second SIGINT or SIGTERM during the final flush kills at once
	}()
	if path := os.Getenv("INOSYNC_CPUPROFILE"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			lg.Error().Err(err).Msg("cannot write the CPU profile")
			return 1
		}
		defer stopProfile()
	}
	if os.Getenv("INOSYNC_MEMPROFILE") != "" {
		if !profiling {
			lg.Error().Msg("INOSYNC_MEMPROFILE: this binary was built without profiling (make build-profile)")
			return 1
		}
		runtime.MemProfileRate = 1 // every allocation, for exact figures
	}
	var pace time.Duration
	if oneProcessor() {
		pace = intakePace
	}
	err = serve(ctx, cfg, o.pretend, pace, lg)
	var se *startError
	switch {
	case errors.As(err, &se):
		lg.Error().Err(se.err).Msg("cannot start")
		return 1
	case err != nil:
		lg.Error().Err(err).Msg("stopped with changes left unsynced")
		return 1
	}
	lg.Info().Msg("stopped")
	return 0
}

// startError is a failure before anything ran (a tree that cannot be
// watched, a bad pattern).
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// serve wires one watcher and one coalescer per watched tree into one
// dispatcher, and runs them until ctx ends and the final flush is done.
// pace is each watcher's Options.Pace.
func serve(ctx context.Context, cfg *config.Config, pretend bool, pace time.Duration, lg zerolog.Logger) error {
	trigger := watch.TriggerOps(cfg.Events)
	var watchers []*watch.Watcher
	// The walks keep most of what they allocate (the watch tables), and
	// what they do not keep is the kernel interface's copies of paths:
	// collecting often keeps the peak near what is kept.
	restoreGC := lowGCDuring()
	defer restoreGC() // on an early return
	var jobs []rsync.Job
	reporter := &hookReporter{lg: lg, seen: map[string]bool{}}
	for i, s := range cfg.Syncs {
		m, err := filter.Compile(s.Excludes)
		if err != nil {
			return &startError{fmt.Errorf("excludes of %s: %w", s.Source, err)}
		}
		exclude, hooks, keep := treeFilters(s, m, reporter)
		w, err := watch.New(watch.Options{
			Root:    s.Source,
			Trigger: trigger,
			Exclude: exclude,
			Filter:  keep,
			Logger:  lg.With().Str("path", s.Source).Logger(),
			Pace:    pace,
		})
		if err != nil {
			return &startError{err}
		}
		watchers = append(watchers, w)
		lg.Info().Str("path", s.Source).Int("watches", w.Watches()).Msg("watching")
		for _, d := range s.Dests {
			jobs = append(jobs, rsync.Job{Tree: i, Path: s.Source, Node: d.Node, Dest: d.Path, Settings: cfg.Settings(s), Exclude: hooks})
		}
	}

	// A watcher that dies stops the daemon: its tree would silently go
	// unsynced otherwise.
	ctx, die := context.WithCancelCause(ctx)
	defer die(nil)
	// The walks made garbage (fsnotify's and the kernel interface's copies
	// of paths): collect it and return it to the OS now, not at the next
	// GC cycle, so the daemon's RSS is what it keeps.
	restoreGC()
	debug.FreeOSMemory()
	if path := os.Getenv("INOSYNC_MEMPROFILE"); path != "" {
		writeHeapProfile(path, lg)
	}
	work := make(chan rsync.Work)
	var wg sync.WaitGroup
	for i, w := range watchers {
		changes := make(chan watch.Change, 1024)
		batches := make(chan watch.Batch)
		wg.Add(3)
		go func() {
			defer wg.Done()
			defer close(changes)
			if err := w.Run(ctx, changes); err != nil {
				lg.Error().Err(err).Str("path", cfg.Syncs[i].Source).Msg("watcher stopped; stopping inosync")
				die(fmt.Errorf("%s is no longer watched: %w", cfg.Syncs[i].Source, err))
			}
		}()
		opts := watch.CoalesceOptions{
			Delay:    max(min(cfg.Syncs[i].Delay, cfg.MaxDelay), minDelay),
			MaxPaths: cfg.MaxPending,
		}
		if opts.Delay == minDelay {
			// edelay = 0: a write that is over need not wait for more
			// of its events.
			opts.Settled = w.Settled
		}
		go func() {
			defer wg.Done()
			watch.Coalesce(ctx, changes, batches, opts)
		}()
		go func() {
			defer wg.Done()
			for b := range batches {
				work <- rsync.Work{Tree: i, Paths: b.Paths, Full: b.Full}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(work)
	}()
	controlDir := sshControlDir(jobs, lg)
	defer closeSSHMasters(controlDir)
	err := rsync.Dispatch(work, rsync.Options{
		Jobs:          jobs,
		SSHControlDir: controlDir,
		MaxProcs:      cfg.MaxProcesses,
		MaxPending:    cfg.MaxPending,
		Warm:          cfg.WarmRsync,
		Pretend:       pretend,
		Initial:       true,
		StopTimeout:   stopTimeout,
		Logger:        lg,
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return errors.Join(cause, err)
	}
	return err
}

// sshControlDir makes the private directory for ssh control sockets when
// some node is remote; "" (no connection reuse) when none is or it cannot
// be made.
func sshControlDir(jobs []rsync.Job, lg zerolog.Logger) string {
	remote := false
	for _, j := range jobs {
		remote = remote || rsync.IsRemote(j.Dest)
	}
	if !remote {
		return ""
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("inosync-ssh-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		lg.Warn().Err(err).Msg("no ssh connection reuse")
		return ""
	}
	fi, err := os.Lstat(dir)
	if st, ok := fi.Sys().(*syscall.Stat_t); err != nil || !ok || !fi.IsDir() || fi.Mode().Perm() != 0o700 || int(st.Uid) != os.Getuid() {
		lg.Warn().Str("dir", dir).Msg("no ssh connection reuse: the control directory is not a private directory")
		return ""
	}
	return dir
}

// closeSSHMasters asks the ssh connections kept for reuse to exit, so that
// none outlives the daemon by ControlPersist.
func closeSSHMasters(dir string) {
	if dir == "" {
		return
	}
	socks, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, s := range socks {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = exec.CommandContext(ctx, "ssh", "-o", "ControlPath="+s, "-O", "exit", "inosync-node").Run()
		cancel()
	}
}
