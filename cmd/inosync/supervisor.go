package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/cmd/inosync/control"
	"github.com/inosync/inosync/cmd/inosync/metrics"
	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
	"github.com/inosync/inosync/watch"
)

// supervisor owns the running config and the trees: it applies reloads,
// answers the control socket, asks for resyncs and writes the status
// file. Only its goroutine (run) touches its fields; it never waits for
// a child process (the dispatcher runs rsync).
type supervisor struct {
	cfg *config.Config
	// startCfg is the config the daemon started with: the settings that
	// take effect only at a restart are what it says (warnRestartOnly).
	startCfg *config.Config
	load     func() (*config.Config, error) // reads the config file again
	watchers *watchers                      // how the trees are watched
	lg       zerolog.Logger
	started  time.Time
	trees    map[string]*treeRun // by treeKey
	order    []string            // tree keys in config order
	nextID   int
	reporter *hookReporter
	pipes    *pipelines
	// dispatcher's control channel, and done once Dispatch has returned
	ctl          chan rsync.Request
	dispatchDone <-chan struct{}
	// changed gets a value when a status may have changed (the
	// dispatcher's and the coalescers' notices); nil without a status
	// file (see statusNotices).
	changed chan struct{}
	calls   chan call
	// stopping: SIGTERM or SIGINT came; the final flush goes on.
	stopping bool
	// refused is the last reload's refusal, nil once a reload took: the
	// config file then differs from the running config (see report).
	refused *status.Refusal
	status  *statusFile
	notify  *systemdNotifier // nil when not under systemd
	roots   *watch.RootWatch // nil when the mount table cannot be watched
}

// call is one control-socket request on its way to the supervisor.
type call struct {
	req   control.Request
	reply chan control.Response // room for one
}

// signals are what the supervisor does on SIGHUP and SIGUSR1.
type signals struct {
	reload, resync <-chan os.Signal
}

// startTrees walks every tree of cfg and adds its watches; the first one
// that cannot be watched stops the start.
func (s *supervisor) startTrees() ([]rsync.Job, error) {
	var jobs []rsync.Job
	for _, sy := range s.cfg.Syncs {
		t, err := s.newTree(s.cfg, sy)
		if err != nil {
			return nil, &startError{err}
		}
		key := treeKey(sy)
		if _, dup := s.trees[key]; dup {
			t.watcher.Close() // the same source and target again: synced once
			continue
		}
		s.trees[key] = t
		s.order = append(s.order, key)
		jobs = append(jobs, t.jobs(s.cfg)...)
	}
	return jobs, nil
}

func (s *supervisor) newTree(cfg *config.Config, sy config.Sync) (*treeRun, error) {
	t, err := newTree(s.nextID, cfg, sy, s.watchers, s.reporter, s.changed, s.lg)
	if err != nil {
		return nil, err
	}
	s.nextID++
	if sy.Resync > 0 {
		t.nextResync = time.Now().Add(sy.Resync)
	}
	return t, nil
}

// run handles signals, control calls, status-file writes and scheduled
// resyncs until the dispatcher returns. Once ctx ends the daemon is
// stopping: no pipeline starts any more (the dispatcher's input closes once
// they have ended), reloads and resyncs are refused, and status requests
// are still answered while the final flush goes on.
func (s *supervisor) run(ctx context.Context, sig signals) {
	s.spreadResyncs()
	var resyncTimer *time.Timer
	defer func() {
		if resyncTimer != nil {
			resyncTimer.Stop()
		}
	}()
	stop := ctx.Done()
	for {
		var resyncC <-chan time.Time
		if next := s.nextResync(); !next.IsZero() && !s.stopping {
			if resyncTimer == nil {
				resyncTimer = time.NewTimer(time.Until(next))
			} else {
				resyncTimer.Reset(time.Until(next))
			}
			resyncC = resyncTimer.C
		}
		select {
		case <-stop:
			stop = nil
			s.stopping = true
			s.pipes.closeWhenDone()
			s.status.changed()
			s.notify.stopping(s.summary())
		case <-s.dispatchDone:
			return
		case <-sig.reload:
			_, _ = s.reloadAndTell()
		case <-sig.resync:
			if s.stopping {
				s.lg.Warn().Msg("SIGUSR1 ignored: inosync is stopping")
				break
			}
			n := s.resync(nil)
			s.lg.Info().Int("jobs", n).Msg("SIGUSR1: full sync of every tree and node")
		case c := <-s.calls:
			c.reply <- s.answer(ctx, c.req)
		case <-s.changed:
			s.status.changed()
			s.notify.changed()
		case <-s.status.due():
			s.status.write(s.report())
		case <-s.notify.statusDue():
			s.notify.sendStatus(s.summary())
		case <-s.notify.pingDue():
			s.watchdog()
		case <-s.rootChanges():
			s.checkRoots()
		case <-resyncC:
			s.resyncDue()
		}
	}
}

// answer handles one control request.
func (s *supervisor) answer(ctx context.Context, req control.Request) control.Response {
	switch req.Command {
	case control.CmdStatus:
		r := s.report()
		return control.Response{OK: true, Status: &r}
	case control.CmdReload:
		msg, err := s.reloadAndTell()
		if err != nil {
			return control.Response{Error: err.Error()}
		}
		return control.Response{OK: true, Message: msg}
	case control.CmdResync:
		if s.stopping {
			return control.Response{Error: "inosync is stopping: it syncs what is pending, then exits"}
		}
		var ids []int
		if req.Source != "" {
			if ids = s.treesBySource(req.Source); len(ids) == 0 {
				return control.Response{Error: fmt.Sprintf("no tree with the source %s (inosync status lists them)", req.Source)}
			}
		}
		n := s.resync(ids)
		s.lg.Info().Str("source", req.Source).Int("jobs", n).Msg("resync asked for on the control socket")
		return control.Response{OK: true, Message: fmt.Sprintf("full sync started for %d (tree, node) pairs", n)}
	}
	return control.Response{Error: fmt.Sprintf("unknown command %q", req.Command)}
}

// rootChanges delivers when a tree's path may lead elsewhere; nil (never)
// without a root watch.
func (s *supervisor) rootChanges() <-chan struct{} {
	if s.roots == nil {
		return nil
	}
	return s.roots.C
}

// reloadAndTell reloads the config, logs how it went and tells systemd
// (RELOADING=1, then READY=1 whether the reload took or not: the daemon
// runs on either way).
func (s *supervisor) reloadAndTell() (string, error) {
	s.notify.reloading()
	s.watchdog() // walking new trees may take long: a whole period for it
	msg, err := s.reload()
	if err != nil {
		s.lg.Error().Err(err).Msg("reload failed; the running config stays")
		if !s.stopping {
			s.refused = &status.Refusal{At: time.Now(), Error: err.Error()}
		}
	} else {
		s.lg.Info().Msg(msg)
		s.refused = nil
		s.watchRoots()
	}
	s.status.changed() // the status file says whether the reload took
	s.notify.ready(s.summary())
	return msg, err
}

// watchdog pings systemd's watchdog once the dispatcher has answered: a
// daemon whose supervisor or dispatcher is stuck stops pinging and is
// restarted.
func (s *supervisor) watchdog() {
	if s.notify.pingDue() == nil {
		return // no watchdog
	}
	reply := make(chan rsync.Status, 1)
	if s.ask(rsync.StatusRequest{Reply: reply}) {
		<-reply
	}
	s.notify.alive()
}

// treesBySource are the ids of the trees with the given source, with or
// without a trailing slash: two trees may share a source (mirrored to
// different targets).
func (s *supervisor) treesBySource(source string) []int {
	var ids []int
	for _, k := range s.order {
		if t := s.trees[k]; filepath.Clean(t.sync.Source) == filepath.Clean(source) {
			ids = append(ids, t.id)
		}
	}
	return ids
}

// ask sends a request to the dispatcher; false once it has returned.
func (s *supervisor) ask(r rsync.Request) bool {
	select {
	case s.ctl <- r:
		return true
	case <-s.dispatchDone:
		return false
	}
}

// resync asks for a full sync of the trees with the given ids (every tree
// when nil) and returns how many jobs will run one.
func (s *supervisor) resync(ids []int) int {
	reply := make(chan int, 1)
	if !s.ask(rsync.ResyncRequest{Trees: ids, Reply: reply}) {
		return 0
	}
	return <-reply
}

// spreadResyncs staggers the first drift-repair syncs of the trees over
// their interval, so that they do not all start at once.
func (s *supervisor) spreadResyncs() {
	n := len(s.order)
	for i, k := range s.order {
		t := s.trees[k]
		if t.sync.Resync > 0 {
			t.nextResync = s.started.Add(t.sync.Resync * time.Duration(i+1) / time.Duration(n))
		}
	}
}

// nextResync is when the next drift-repair sync is due; zero if never.
func (s *supervisor) nextResync() time.Time {
	var next time.Time
	for _, t := range s.trees {
		if !t.nextResync.IsZero() && (next.IsZero() || t.nextResync.Before(next)) {
			next = t.nextResync
		}
	}
	return next
}

// resyncDue asks for the drift-repair syncs that are due.
func (s *supervisor) resyncDue() {
	now := time.Now()
	var ids []int
	for _, k := range s.order {
		t := s.trees[k]
		if !t.nextResync.IsZero() && !now.Before(t.nextResync) {
			ids = append(ids, t.id)
			t.nextResync = now.Add(t.sync.Resync)
			s.lg.Info().Str("path", t.sync.Source).Dur("resync_interval", t.sync.Resync).Msg("scheduled full sync (resync_interval)")
		}
	}
	if len(ids) > 0 {
		s.resync(ids)
	}
}

// report is the status of every tree and node now.
func (s *supervisor) report() status.Report {
	st := rsync.Status{At: time.Now()} // the dispatcher has returned: no jobs
	reply := make(chan rsync.Status, 1)
	if s.ask(rsync.StatusRequest{Reply: reply}) {
		st = <-reply
	}
	r := status.Report{Config: s.cfg.File, PID: os.Getpid(), Version: currentBuild().Version, Started: s.started, At: st.At, Stopping: s.stopping,
		ReloadRefused: s.refused}
	byTree := map[int][]rsync.JobStatus{}
	for _, j := range st.Jobs {
		byTree[j.Tree] = append(byTree[j.Tree], j)
	}
	for _, k := range s.order {
		t := s.trees[k]
		tr := status.Tree{Source: t.sync.Source, Target: t.sync.Target, State: status.TreeWatching,
			Watches: t.watcher.Watches(), Events: t.watcher.Events(), Overflows: t.watcher.Overflows()}
		switch {
		case t.stop == nil:
			tr.State = status.TreeStarting
		case t.lost:
			tr.State = status.TreeLost
		}
		waiting, full, first := t.backlog.Load()
		for _, j := range byTree[t.id] {
			tr.Nodes = append(tr.Nodes, nodeStatus(j, waiting, full, first, r.At))
		}
		r.Trees = append(r.Trees, tr)
	}
	return r
}

// summary is the one-line summary of the status now.
func (s *supervisor) summary() string {
	r := s.report()
	return r.Summary()
}

// nodeStatus is one job's status, with what its tree's coalescer still
// holds (waiting out the delay) added.
func nodeStatus(j rsync.JobStatus, waiting int, full bool, first, at time.Time) status.Node {
	n := status.Node{
		Node: j.Node, Dest: j.Dest, State: string(j.State),
		Pending: j.Pending + waiting, FullSync: j.Full || full, Running: j.Running,
		Failures: j.Failures, LastExit: j.LastExit, LastError: j.LastError,
		Runs: j.Runs, Failed: j.Failed, Durations: j.Durations, DurationSum: j.DurationSum,
	}
	oldest := j.Oldest
	if !first.IsZero() && (oldest.IsZero() || first.Before(oldest)) {
		oldest = first
	}
	if (waiting > 0 || full) && n.State == status.InSync {
		n.State = status.Pending
	}
	if !oldest.IsZero() {
		n.Oldest = &oldest
		n.OldestAge = max(at.Sub(oldest).Seconds(), 0)
	}
	n.LastSuccess = timePtr(j.LastSuccess)
	n.FailingSince = timePtr(j.FailingSince)
	n.NextRetry = timePtr(j.NextRetry)
	for _, u := range j.Unreadable {
		n.Unreadable = append(n.Unreadable, status.UnreadablePath{Path: u.Path, Since: u.Since, Failures: u.Failures, Error: u.Error, NextRetry: timePtr(u.NextRetry)})
	}
	if a := j.After; a != nil {
		n.After = &status.After{Argv: a.Argv, Runs: a.Runs, Failed: a.Failed, Running: a.Running, LastEnd: timePtr(a.LastEnd), LastError: a.LastError,
			LastFailure: timePtr(a.LastFailure), LastFailureError: a.LastFailureError, Waiting: a.Waiting, WaitingFull: a.WaitingFull}
	}
	return n
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// listenControl makes the control socket; nil, with the reason logged,
// when there can be none.
func (s *supervisor) listenControl(path string) *control.Server {
	srv, err := control.Listen(path)
	if err != nil {
		s.lg.Warn().Err(err).Msg("no control socket: inosync status, reload and resync will not reach this daemon (signals still work)")
		return nil
	}
	s.lg.Info().Str("socket", srv.Path()).Msg("control socket")
	return srv
}

// callIn hands a request from another goroutine (a control connection, a
// metrics scrape) to the supervisor and waits for its answer, or for ctx.
func (s *supervisor) callIn(ctx context.Context, req control.Request) control.Response {
	c := call{req: req, reply: make(chan control.Response, 1)}
	select {
	case s.calls <- c:
	case <-ctx.Done():
		return control.Response{Error: "inosync is busy or stopping"}
	}
	select {
	case r := <-c.reply:
		return r
	case <-ctx.Done():
		return control.Response{Error: "inosync is busy or stopping"}
	}
}

// serveMetrics serves /metrics on metrics_listen, if set, until the
// returned function is called.
func (s *supervisor) serveMetrics() (stop func()) {
	if s.cfg.MetricsListen == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := metrics.Serve(ctx, s.cfg.MetricsListen, func(ctx context.Context) (status.Report, bool) {
		r := s.callIn(ctx, control.Request{Command: control.CmdStatus})
		if r.Status == nil {
			return status.Report{}, false
		}
		return *r.Status, true
	}, rsync.DurationBuckets)
	if err != nil {
		s.lg.Error().Err(err).Str("metrics_listen", s.cfg.MetricsListen).Msg("cannot serve metrics; going on without them")
		cancel()
		return func() {}
	}
	s.lg.Info().Str("metrics", "http://"+addr.String()+"/metrics").Msg("serving metrics")
	return cancel
}

// stoppedReport is the last report, written to the status file once the
// dispatcher has returned: the trees, and how the stop ended.
func (s *supervisor) stoppedReport(err error) status.Report {
	r := status.Report{Config: s.cfg.File, PID: os.Getpid(), Version: currentBuild().Version, Started: s.started, At: time.Now(),
		Stopped: true, Result: "everything seen was synced"}
	if err != nil {
		r.Result = err.Error()
	}
	switch open := s.pipes.writtenAtStop(); len(open) {
	case 0:
	case 1:
		r.Result += "; a file was still being written at the stop and may be partial on the nodes until it is synced again: " + open[0]
	default:
		r.Result += fmt.Sprintf("; %d files were still being written at the stop and may be partial on the nodes until they are synced again: %s",
			len(open), strings.Join(open, ", "))
	}
	for _, k := range s.order {
		t := s.trees[k]
		r.Trees = append(r.Trees, status.Tree{Source: t.sync.Source, Target: t.sync.Target, State: "stopped"})
	}
	return r
}
