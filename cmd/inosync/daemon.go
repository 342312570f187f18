package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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
// the watcher takes the events of a stream 5 ms at a time instead of
// handing on each as it comes. A change in a stream waits up to 5 ms
// more; a lone change does not wait.
const intakePace = 5 * time.Millisecond

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
	stopProfiling, err := startProfiling()
	if err != nil {
		lg.Error().Err(err).Msg("cannot profile")
		return 1
	}
	defer stopProfiling()
	var pace time.Duration
	if useOneProcessor() {
		pace = intakePace
	}
	return exitStatus(serve(ctx, cfg, o.pretend, pace, lg), lg)
}

// exitStatus logs how serve ended and returns the exit status for it.
func exitStatus(err error, lg zerolog.Logger) int {
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
	watchers, jobs, err := watchTrees(cfg, pace, lg)
	if err != nil {
		return err
	}
	if path := os.Getenv("INOSYNC_MEMPROFILE"); path != "" {
		writeHeapProfile(path, lg)
	}
	// A watcher that dies stops the daemon: its tree would silently go
	// unsynced otherwise.
	ctx, die := context.WithCancelCause(ctx)
	defer die(nil)
	work := runTrees(ctx, die, cfg, watchers, lg)
	ssh := rsync.NewSSHControl(jobs, lg)
	defer ssh.Close()
	err = rsync.Dispatch(work, rsync.Options{
		Jobs:          jobs,
		SSHControlDir: ssh.DirOrNone(),
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

// watchTrees makes the watcher of every tree (walking it and adding its
// watches) and the rsync jobs of every (tree, node).
func watchTrees(cfg *config.Config, pace time.Duration, lg zerolog.Logger) ([]*watch.Watcher, []rsync.Job, error) {
	restoreGC := lowGCDuring()
	defer func() {
		restoreGC()
		releaseWalkGarbage()
	}()
	trigger := watch.TriggerOps(cfg.Events)
	reporter := &hookReporter{lg: lg, seen: map[string]bool{}}
	var watchers []*watch.Watcher
	var jobs []rsync.Job
	for i, s := range cfg.Syncs {
		m, err := filter.Compile(s.Excludes)
		if err != nil {
			return nil, nil, &startError{fmt.Errorf("excludes of %s: %w", s.Source, err)}
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
			return nil, nil, &startError{err}
		}
		watchers = append(watchers, w)
		lg.Info().Str("path", s.Source).Int("watches", w.Watches()).Msg("watching")
		jobs = append(jobs, treeJobs(cfg, i, hooks)...)
	}
	return watchers, jobs, nil
}

// runTrees runs, per tree, its watcher, its coalescer and the hand-over
// of its batches to the returned channel, which is closed once every tree
// has stopped. A watcher that fails calls die.
func runTrees(ctx context.Context, die context.CancelCauseFunc, cfg *config.Config, watchers []*watch.Watcher, lg zerolog.Logger) <-chan rsync.Work {
	work := make(chan rsync.Work)
	var wg sync.WaitGroup
	for i, w := range watchers {
		changes := make(chan watch.Change, 1024)
		batches := make(chan watch.Batch)
		source := cfg.Syncs[i].Source
		wg.Go(func() {
			defer close(changes)
			if err := w.Run(ctx, changes); err != nil {
				lg.Error().Err(err).Str("path", source).Msg("watcher stopped; stopping inosync")
				die(fmt.Errorf("%s is no longer watched: %w", source, err))
			}
		})
		opts := watch.CoalesceOptions{
			Delay:    max(min(cfg.Syncs[i].Delay, cfg.MaxDelay), minDelay),
			MaxPaths: cfg.MaxPending,
		}
		if opts.Delay == minDelay {
			// edelay = 0: a write that is over need not wait for more
			// of its events.
			opts.Settled = w.Settled
		}
		wg.Go(func() { watch.Coalesce(ctx, changes, batches, opts) })
		wg.Go(func() {
			for b := range batches {
				work <- rsync.Work{Tree: i, Paths: b.Paths, Full: b.Full}
			}
		})
	}
	go func() {
		wg.Wait()
		close(work)
	}()
	return work
}
