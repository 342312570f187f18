package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/cmd/inosync/control"
	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
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

// rootCheckInterval is how often every tree's path is checked for leading
// elsewhere besides the events that say so (see watch.RootWatch): a stat
// per tree.
const rootCheckInterval = 2 * time.Second

// stopTimeout bounds the final flush on SIGTERM/SIGINT.
const stopTimeout = time.Minute

// daemon runs the watchers, coalescers and the rsync dispatcher until
// SIGTERM or SIGINT, then flushes what is pending and returns the exit
// status: 0 when everything seen was synced.
func daemon(o *options, cfg *config.Config, stderr io.Writer) int {
	if o.daemon && !o.detached {
		return detach(stderr)
	}
	lg, closeLog, err := newLogger(o, stderr, os.Getenv("JOURNAL_STREAM"))
	if err != nil {
		fmt.Fprintf(stderr, "inosync: %v\n", err)
		return 1
	}
	defer closeLog()
	ctx, kill := stopSignals()
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
	reload, resync := make(chan os.Signal, 1), make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGHUP)
	signal.Notify(resync, syscall.SIGUSR1)
	defer signal.Stop(reload)
	defer signal.Stop(resync)
	load := func() (*config.Config, error) {
		return config.Load(o.config, config.Options{
			Print: func(msg string) { lg.Info().Str("config", o.config).Msg("print: " + msg) },
		})
	}
	sd, err := readSystemdEnv()
	if err != nil {
		lg.Warn().Err(err).Msg("systemd's watchdog setting is unreadable: no watchdog pings")
	}
	so := serveOptions{pretend: o.pretend, pace: pace, sig: signals{reload: reload, resync: resync}, load: load, systemd: sd, kill: kill}
	return exitStatus(serve(ctx, cfg, so, lg), lg)
}

// stopSignals returns a context that SIGTERM or SIGINT ends (the stop:
// the final flush begins) and a channel that a second one closes (the
// final flush ends at once, killing the rsync and after commands still
// running). A third one kills the process by the signal's default action.
func stopSignals() (context.Context, <-chan struct{}) {
	ctx, stop := context.WithCancel(context.Background())
	kill := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		stop()
		<-sigs
		close(kill)
		signal.Stop(sigs)
	}()
	return ctx, kill
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

// serveOptions are what serve needs besides the config.
type serveOptions struct {
	pretend bool
	pace    time.Duration // each watcher's Options.Pace
	sig     signals       // SIGHUP and SIGUSR1; nil channels in tests
	// load reads the config file again, for a reload; nil = config.Load
	// of the same file.
	load func() (*config.Config, error)
	// systemd: the notify socket and watchdog that systemd set, if any.
	systemd systemdEnv
	// kill, if not nil, is closed to end the final flush at once (see
	// stopSignals).
	kill <-chan struct{}
}

// serve wires one watcher and one coalescer per watched tree into one
// dispatcher, and runs them with the supervisor (reloads, the control
// socket, the status file, metrics) until ctx ends and the final flush is
// done.
func serve(ctx context.Context, cfg *config.Config, so serveOptions, lg zerolog.Logger) error {
	if so.load == nil {
		file := cfg.File
		so.load = func() (*config.Config, error) { return config.Load(file, config.Options{}) }
	}
	// The trees' inotify instances end once every watcher has left them
	// (see pipelines), and at the latest when serve returns.
	sharedCtx, stopShared := context.WithCancel(context.Background())
	defer stopShared()
	ws, err := newWatchers(sharedCtx, cfg.Watcher, so.pace, lg)
	if err != nil {
		return &startError{err}
	}
	s := &supervisor{
		cfg: cfg, startCfg: cfg, load: so.load, lg: lg, started: time.Now(), watchers: ws,
		trees: map[string]*treeRun{}, reporter: &hookReporter{lg: lg, seen: map[string]bool{}},
		ctl: make(chan rsync.Request), changed: statusNotices(cfg, so.systemd.notify), calls: make(chan call),
		status: newStatusFile(cfg, lg), notify: newSystemdNotifier(so.systemd, lg),
	}
	defer s.status.stop()
	defer s.notify.stop()
	jobs, err := s.walkTrees()
	if err != nil {
		return err
	}
	writeHeapProfileIfAsked(lg)
	// A watcher that dies stops the daemon: its tree would silently go
	// unsynced otherwise.
	ctx, die := context.WithCancelCause(ctx)
	defer die(nil)
	s.pipes = newPipelines(ctx, die, lg)
	for _, k := range s.order {
		s.pipes.start(s.trees[k], cfg)
	}
	// Roots are followed until serve returns, through the final flush.
	rootsCtx, stopRoots := context.WithCancel(context.Background())
	defer stopRoots()
	if s.roots, err = watch.NewRootWatch(rootsCtx, rootCheckInterval); err != nil {
		lg.Warn().Err(err).Dur("every", rootCheckInterval).Msg("an unmounted or replaced source is noticed by a periodic check only")
	}
	s.watchRoots()
	ssh := rsync.NewSSHControl(lg)
	defer ssh.Close()
	dispatched := s.startDispatcher(jobs, ssh.DirOrNone(), so)
	// The socket answers until the final flush is over, not only until
	// ctx ends.
	stopControl := s.serveControl()
	stopMetrics := s.serveMetrics()
	s.status.changed()
	s.notify.ready(s.summary())
	s.run(ctx, so.sig)
	stopMetrics()
	stopControl()
	err = <-dispatched
	s.status.final(s.stoppedReport(err))
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return errors.Join(cause, err)
	}
	return err
}

// startDispatcher runs the dispatcher for jobs on the pipelines' work
// until that channel is closed; the returned channel gets what Dispatch
// returned, and s.dispatchDone is closed then.
func (s *supervisor) startDispatcher(jobs []rsync.Job, sshControlDir string, so serveOptions) <-chan error {
	o := rsync.Options{
		Jobs:          jobs,
		SSHControlDir: sshControlDir,
		MaxProcs:      s.cfg.MaxProcesses,
		MaxPending:    s.cfg.MaxPending,
		Warm:          s.cfg.WarmRsync,
		Pretend:       so.pretend,
		Initial:       true,
		StopTimeout:   stopTimeout,
		Kill:          so.kill,
		Logger:        s.lg,
		Control:       s.ctl,
		Changed:       s.changed,
	}
	work := s.pipes.work
	dispatched := make(chan error, 1)
	done := make(chan struct{})
	s.dispatchDone = done
	go func() {
		dispatched <- rsync.Dispatch(work, o)
		close(done)
	}()
	return dispatched
}

// serveControl answers on the control socket until the returned function
// is called, which returns once the socket is closed.
func (s *supervisor) serveControl() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := s.listenControl(control.SocketPath(s.cfg.File, s.cfg.ControlSocket))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if srv != nil {
			srv.Serve(ctx, s.callIn)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// walkTrees makes the watcher of every tree (walking it and adding its
// watches) and returns the rsync jobs of every (tree, node).
func (s *supervisor) walkTrees() ([]rsync.Job, error) {
	restoreGC := lowGCDuring()
	defer func() {
		restoreGC()
		releaseWalkGarbage()
	}()
	return s.startTrees()
}
