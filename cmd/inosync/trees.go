package main

import (
	"context"
	"fmt"
	"math"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
	"github.com/inosync/inosync/rsync/filter"
	"github.com/inosync/inosync/watch"
)

// treeRun is one watched tree while the daemon runs: its watcher, and the
// pipeline that hands its changes to the dispatcher (watcher, coalescer,
// hand-over), which a reload may stop or replace.
type treeRun struct {
	id      int // rsync.Job.Tree and rsync.Work.Tree of its jobs and changes
	sync    config.Sync
	watcher *watch.Watcher
	backlog *watch.Backlog
	hooks   func(string, bool) bool // the config's exclude functions, for its jobs
	// root is the directory the source led to when the tree was
	// watched: a run while the path leads elsewhere is refused.
	root watch.Root
	// lost: the path leads nowhere (or to a bare mount point); said
	// once, and again when it is back (see checkRoots).
	lost bool
	// rewatchAt: a try to watch its source anew failed; the next waits
	// until then (rewatchWait, doubling).
	rewatchAt   time.Time
	rewatchWait time.Duration
	stop        context.CancelFunc // ends its pipeline; nil until started
	watchEnded  chan struct{}      // closed once its watcher's Run has returned
	// nextResync is when its next drift-repair full sync is due (zero:
	// never; see Sync.Resync).
	nextResync time.Time
}

// treeKey names a tree across reloads: its source and target.
func treeKey(s config.Sync) string { return s.Source + "\x00" + s.Target }

// newTree starts watching s's source: a walk adding its watches in one
// of the inotify instances the trees share, or its filesystem's fanotify
// mark.
func newTree(id int, cfg *config.Config, s config.Sync, ws *watchers, reporter *hookReporter, notify chan<- struct{}, lg zerolog.Logger) (*treeRun, error) {
	m, err := filter.Compile(s.Excludes)
	if err != nil {
		return nil, fmt.Errorf("excludes of %s: %w", s.Source, err)
	}
	exclude, hooks, keep := treeFilters(s, m, reporter)
	keep = withoutOwnFile(keep, statusFileIn(s.Source, cfg.StatusFile))
	root, err := watch.StatRoot(s.Source)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Source, err)
	}
	w, kind, err := ws.watch(watch.Options{
		Root:    s.Source,
		Trigger: watch.TriggerOps(cfg.Events),
		Exclude: exclude,
		Filter:  keep,
		Logger:  lg.With().Str("path", s.Source).Logger(),
	}, lg)
	if err != nil {
		return nil, err
	}
	lg.Info().Str("path", s.Source).Int("watches", w.Watches()).Str("watcher", kind).Msg("watching")
	return &treeRun{id: id, sync: s, watcher: w, backlog: &watch.Backlog{Notify: notify}, hooks: hooks, root: root}, nil
}

// jobs are the rsync jobs of the tree under cfg, one per node.
func (t *treeRun) jobs(cfg *config.Config) []rsync.Job {
	var jobs []rsync.Job
	for _, d := range t.sync.Dests {
		jobs = append(jobs, rsync.Job{Tree: t.id, Path: t.sync.Source, Node: d.Node, Dest: d.Path, Settings: destSettings(cfg, t.sync, d),
			Exclude: t.hooks, CheckSource: t.root.Check, AllowEmptySource: t.sync.AllowEmptySource, NoInitial: !t.sync.Init,
			After: afterCommand(t.sync, d)})
	}
	return jobs
}

// pipelines runs the trees' pipelines: each hands its batches to work,
// which is closed once the daemon stops and every pipeline has ended. A
// watcher that fails calls die: its tree would silently go unsynced
// otherwise.
type pipelines struct {
	ctx  context.Context
	die  context.CancelCauseFunc
	work chan rsync.Work
	wg   sync.WaitGroup
	lg   zerolog.Logger

	mu sync.Mutex
	// openAtStop are the files (the tree's source and the path) handed
	// on at the daemon's stop while still being written (watch.Batch.Open).
	openAtStop []string
}

func newPipelines(ctx context.Context, die context.CancelCauseFunc, lg zerolog.Logger) *pipelines {
	p := &pipelines{ctx: ctx, die: die, work: make(chan rsync.Work), lg: lg}
	p.wg.Add(1) // held until closeWhenDone: no pipeline may start after
	return p
}

// start runs t's pipeline under cfg's settings until it is stopped or the
// daemon stops. Stopping it hands on what its coalescer held first.
func (p *pipelines) start(t *treeRun, cfg *config.Config) {
	ctx, stop := context.WithCancel(p.ctx)
	t.stop = stop
	t.watchEnded = make(chan struct{})
	ended := t.watchEnded
	w, id, source := t.watcher, t.id, t.sync.Source
	changes := make(chan watch.Change, 1024)
	batches := make(chan watch.Batch)
	opts := watch.CoalesceOptions{
		Delay:    max(min(t.sync.Delay, cfg.MaxDelay), minDelay),
		MaxPaths: cfg.MaxPending,
		Backlog:  t.backlog,
		// A file still being written waits for its close, at most
		// max_delay.
		Writing:  w.Writing,
		HoldOpen: cfg.MaxDelay,
	}
	if t.sync.Delete == config.DeleteRunning {
		// A directory standing for its many entries would be synced with
		// --delete, deleting what only the node has there: in this mode
		// a run deletes only what was deleted on the source, so each
		// entry is listed (max_pending still bounds the batch).
		opts.PerDir = math.MaxInt
	}
	if opts.Delay == minDelay {
		// edelay = 0: a write that is over need not wait for more of
		// its events.
		opts.Settled = w.Settled
	}
	p.wg.Add(3)
	go func() {
		defer p.wg.Done()
		defer close(changes)
		defer close(ended)
		if err := w.Run(ctx, changes); err != nil {
			p.lg.Error().Err(err).Str("path", source).Msg("watcher stopped; stopping inosync")
			p.die(fmt.Errorf("%s is no longer watched: %w", source, err))
		}
	}()
	go func() {
		defer p.wg.Done()
		watch.Coalesce(ctx, changes, batches, opts)
	}()
	go func() {
		defer p.wg.Done()
		for b := range batches {
			p.stillWritten(source, b.Open)
			p.work <- rsync.Work{Tree: id, Paths: b.Paths, Full: b.Full, Since: b.First, Moves: workMoves(b.Moves), Renamed: b.Renamed, RenamedLost: b.RenamedLost}
		}
	}()
}

// stillWritten says that the files open of the tree at source are synced
// while their writers still have them open, as the tree's watching stops:
// their copies may be partial. At the daemon's stop they are kept for
// the final report (writtenAtStop).
func (p *pipelines) stillWritten(source string, open []string) {
	if len(open) == 0 {
		return
	}
	if p.ctx.Err() == nil {
		// A reload replaced or removed the tree's watching: a replaced
		// tree's new watcher sees the writes that follow.
		p.lg.Info().Str("path", source).Strs("open", open).Msg("files still being written as a reload replaced this tree's watching")
		return
	}
	p.lg.Warn().Str("path", source).Strs("open", open).
		Msg("files still being written as inosync stopped: synced as they are, so their copies on the nodes may be partial until they are synced again (at the next start)")
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rel := range open {
		p.openAtStop = append(p.openAtStop, filepath.Join(source, rel))
	}
}

// writtenAtStop returns the files handed on at the daemon's stop while
// still being written (see stillWritten).
func (p *pipelines) writtenAtStop() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.openAtStop)
}

// workMoves are a batch's renames as the dispatcher takes them.
func workMoves(ms []watch.Move) []rsync.Move {
	var out []rsync.Move
	for _, m := range ms {
		out = append(out, rsync.Move{From: m.From, To: m.To})
	}
	return out
}

// closeWhenDone closes work once every pipeline has ended (they end with
// the daemon's context).
func (p *pipelines) closeWhenDone() {
	p.wg.Done()
	go func() {
		p.wg.Wait()
		close(p.work)
	}()
}

// watchChanged reports whether a reload changed what the watcher or the
// coalescer of a tree does, so that its pipeline must be replaced; and
// whether what it excludes may have changed, so that it needs one full
// sync. Exclude functions cannot be compared (a function's body is not
// seen), so a tree with any is replaced and synced whole.
func watchChanged(old, cur *config.Config, a, b config.Sync) (replace, full bool) {
	hooks := len(a.ExcludeHooks)+len(a.FilterHooks)+len(b.ExcludeHooks)+len(b.FilterHooks) > 0
	full = !slices.Equal(a.Excludes, b.Excludes) || len(a.ExcludeHooks)+len(b.ExcludeHooks) > 0
	replace = full || hooks || a.Delay != b.Delay || !slices.Equal(old.Events, cur.Events) ||
		old.MaxPending != cur.MaxPending || old.MaxDelay != cur.MaxDelay ||
		(a.Delete == config.DeleteRunning) != (b.Delete == config.DeleteRunning) // the coalescer's PerDir (start)
	return replace, full
}

// statusFileIn returns a function that tells the status file and the
// temp files it is written through (see writeAtomic) by their path
// relative to source; nil when the status file is not inside source.
// Their changes must start no sync: each write would start a run, whose
// end changes the status, which is written again.
func statusFileIn(source, statusFile string) func(rel string) bool {
	if statusFile == "" {
		return nil
	}
	rel, err := filepath.Rel(filepath.Clean(source), filepath.Clean(statusFile))
	if err != nil || rel == "." || strings.HasPrefix(rel, "../") || rel == ".." {
		return nil
	}
	rel = filepath.ToSlash(rel)
	dir, name := path.Split(rel)
	tmp := dir + "." + name + "."
	return func(r string) bool {
		return r == rel || strings.HasPrefix(r, tmp) && !strings.Contains(r[len(tmp):], "/")
	}
}

// withoutOwnFile makes a watcher's Filter also drop the changes of the
// daemon's own file (own is nil when there is none in the tree).
func withoutOwnFile(keep func(watch.Change) bool, own func(rel string) bool) func(watch.Change) bool {
	if own == nil {
		return keep
	}
	return func(c watch.Change) bool {
		return !own(c.Rel) && (keep == nil || keep(c))
	}
}
