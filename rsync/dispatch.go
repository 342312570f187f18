package rsync

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/inosync/inosync/rsync/filter"
	"github.com/rs/zerolog"
)

// Job is one watched tree's sync to one node.
type Job struct {
	Tree     int    // the tree's id: Work for this tree reaches this job
	Path     string // the watched path as written (for logs and the argv)
	Node     string // the rnodes entry as written (for logs)
	Dest     string // the whole rsync destination
	Settings Settings
	// Exclude, if not nil, is the config's exclude functions for this
	// tree. rsync cannot call them, so before a run that syncs a directory
	// recursively the dispatcher walks it and hands rsync what they
	// exclude (--exclude-from), to leave the target as the incremental
	// runs do. It must be safe for concurrent use.
	Exclude func(rel string, isDir bool) bool
	// CheckSource, if not nil, says whether the tree's path still leads
	// to the directory that is watched; every run asks it first, and a
	// run it refuses is a failure that runs no rsync (see guard).
	CheckSource func() error
	// AllowEmptySource lets a full sync run from an empty source to a
	// target that is not empty (allow_empty_source).
	AllowEmptySource bool
	// NoInitial: the job has no initial sync (init = False), only the
	// runs for changes from its start on.
	NoInitial bool
	// After, if not nil, runs after each successful run (see
	// AfterCommand).
	After *AfterCommand
}

// Work is a set of changed paths of one tree, as the coalescer hands it on.
// Paths are relative to the tree, '/'-separated; a directory to sync
// recursively ends in '/'. Full means the whole tree.
type Work struct {
	Tree  int
	Paths []string
	Full  bool
	Since time.Time // when the oldest of these changes was seen; zero = now
	// Moves are renames within the tree among Paths: the target still
	// has each old name, from which the new one is copied there before
	// the run (see moveArgv), instead of being sent again.
	Moves []Move
	// Renamed are the new names of every rename within the tree among
	// Paths, whether or not Moves holds it (see takeRenamed).
	Renamed []string
	// RenamedLost: the batch had more renames than it records; the rest
	// are compared by size and time only.
	RenamedLost bool
}

// Move is a rename within a tree, both names relative to its root: To
// holds what From held.
type Move struct{ From, To string }

// Options configure a dispatcher.
type Options struct {
	Jobs    []Job
	Pretend bool // log "would execute" instead of running rsync
	// MaxProcs bounds the rsync processes at once, warm ones and those
	// that are only exiting included; 0 = Overlap+3 per job (its runs,
	// its two warm rsyncs while changes stream in, and one run that is
	// exiting). The jobs take turns for the slots (see startReady).
	MaxProcs int
	// Overlap is how many runs of one job may transfer at once, for
	// disjoint paths: a change is not held up by the previous run's exit
	// (rsync lives on for a while after its data is in place); a run that is
	// only exiting does not count. 0 = 2; 1 = one at a time.
	Overlap int
	// MaxPending is how many paths a job may hold before it syncs its
	// whole tree instead: a node that is down or slow gathers the batches
	// of many delays, and this bounds that backlog. 0 means no bound. The
	// daemon passes the config's max_pending, which owns the default.
	MaxPending int
	// Backoff bounds the wait before a failed run is retried: it starts at
	// Backoff.Min and doubles per failure up to Backoff.Max.
	Backoff struct{ Min, Max time.Duration }
	// StopTimeout bounds the final flush after the input closes; rsyncs
	// still running then are killed and their paths reported unsynced.
	StopTimeout time.Duration
	// Kill, if not nil, is closed to end the final flush at once (a
	// second stop signal): the rsyncs and after commands still running
	// are killed, with every process they started, as at StopTimeout.
	Kill   <-chan struct{}
	Logger zerolog.Logger
	// Initial seeds every job with a full initial sync (0.2.3's argv).
	Initial bool
	// Warm keeps one list-run rsync per local (tree, node) started and
	// waiting for its file list, so that a change skips rsync's start-up;
	// two while the job's list runs start less than StreamGap apart.
	Warm bool
	// StreamGap: 0 = one second (see warmWant).
	StreamGap time.Duration
	// SSHControlDir, if not "", is a private directory for ssh control
	// sockets: runs to remote nodes after the initial one reuse one ssh
	// connection per node (see withSSHReuse).
	SSHControlDir string
	// Control, if not nil, carries requests: status, resync, reload.
	Control <-chan Request
	// SlowRun is how long a run may go on before a warning says so (and
	// again each time that time has doubled); 0 = DefaultSlowRun.
	SlowRun time.Duration
	// Changed, if not nil, gets a value (without waiting, so it needs a
	// buffer of one) whenever what a status would show may have changed.
	Changed chan<- struct{}
}

// DefaultSlowRun is Options.SlowRun's default: a run that long is worth a
// look (a hung node, or a transfer bigger than usual).
const DefaultSlowRun = 5 * time.Minute

// overlapMax bounds the paths on both sides when a run starts while
// another run of the same job goes on: overlap is for the latency of small
// changes, and disjointness is checked pairwise on every dispatch.
const overlapMax = 32

// result is what a run reports back to the dispatcher.
type result struct {
	job     *jobState // carried back for the dispatcher; the run does not touch it
	id      int       // the run's key in jobState.runs
	paths   []string  // what the run carried (nil for a full run)
	full    bool
	initial bool
	exit    int
	err     error
	stderr  string
	took    time.Duration
	// unreadable: for exit 23, the paths that rsync could not read, with
	// what it said about each (see unreadablePaths); nil when it named
	// none or something it could not place.
	unreadable map[string]string
	// renamed: new names of renames to send by content (the run's, and
	// those whose copy failed), put back when the run failed.
	renamed []string
}

// jobState is the dispatcher's book on one job. Only the dispatcher
// goroutine touches it.
type jobState struct {
	Job
	// wholeOnly: the job's changes are synced by walks of the whole tree,
	// never by a run for a list of paths: its rsync options (extra) add
	// filter rules, which rsync applies as written only in such a walk
	// (see filter.RuleOption). The config's own rules (excludes, filters)
	// are applied in watching too, so a list never names what they leave
	// out. Set with the job (setJob).
	wholeOnly bool

	pending map[string]struct{}
	moves   map[string]string   // renames among pending: new name → old (see Work.Moves)
	renamed map[string]struct{} // renames' new names not yet compared by content (see takeRenamed)
	full    bool
	initial bool // the pending full run is the initial one
	runs    map[int]running
	nextRun int
	// againAfterFull holds the paths of runs started while a full run went on:
	// they are synced again once it ends, so its copy of them cannot be
	// the last word.
	againAfterFull map[string]struct{}
	// warm holds started rsyncs waiting for a list, the oldest first.
	warm []*warmRsync
	// warmStarting is how many warm rsyncs are being started for the job.
	warmStarting int
	// streaming: the job's last two list runs started less than
	// Options.StreamGap apart; until the gap has passed since the last
	// one, it keeps two warm rsyncs (see warmWant).
	streaming bool
	// warmAt is when the job may start its next warm rsync: a while after
	// it handed one a list (see warmDelay).
	warmAt time.Time
	// listed is when the job last started a list run: the jobs that did
	// most recently keep the warm rsyncs (see warmMax).
	listed   time.Time
	failures int
	waiting  bool // in backoff until a retry tick arrives
	// heldMaxDelete: rsync stopped at --max-delete; the job waits for a
	// new change or a resync instead of a retry tick.
	heldMaxDelete bool
	retryGen      int  // which retry tick ends the backoff: the last one armed
	gaveUp        bool // failed during the final flush
	removed       bool // a reload removed it; only its runs are still booked
	gen           int  // its command line's generation: a reload that changes it bumps it
	// since is when the oldest pending change was seen (see Work.Since);
	// meaningful while hasPending.
	since time.Time
	rec   record
	// unreadable holds the paths set aside because rsync could not read
	// them; unreadableTimer brings the loop back when the first is due.
	unreadable      unreadableSet
	unreadableTimer *time.Timer
	after           afterState
}

func (j *jobState) hasPending() bool { return j.full || len(j.pending) > 0 }

// setJob gives j its job, at its start or from a reload, and what follows
// from the job's settings (wholeOnly).
func (j *jobState) setJob(job Job) {
	j.Job = job
	j.wholeOnly = filter.RuleOption(job.Settings.Extra) != ""
}

// fullRunning reports whether a full run of the job is going on.
func (j *jobState) fullRunning() bool {
	for _, r := range j.runs {
		if r.full {
			return true
		}
	}
	return false
}

// running is what a run in progress carries.
type running struct {
	full bool
	// whole: rsync walks the whole tree, for a full sync or for the
	// changes in paths of a job whose extra adds filter rules (see
	// wholeOnly).
	whole   bool
	initial bool
	paths   []string
	moves   []Move    // copied on the target before the run (see moveArgv)
	renamed []string  // renames' new names compared by content before the run (see takeRenamed)
	exclude []string  // set-aside paths it leaves out (see unreadableSet)
	since   time.Time // when the oldest of its changes was seen
	// transferred: rsync said its transfer is complete and is only exiting
	// (warm runs; see transferredMarker). Its paths no longer hold up
	// others, and it does not count against Overlap.
	transferred bool
}

// active counts the job's runs that have not said their transfer is
// complete: a run that is only exiting holds no path and no transfer.
func (j *jobState) active() int {
	n := 0
	for _, r := range j.runs {
		if !r.transferred {
			n++
		}
	}
	return n
}

// retryTick ends job's backoff, if gen is still its latest.
type retryTick struct {
	job *jobState
	gen int
}

// runKey names a run: its job and its key in jobState.runs.
type runKey struct {
	job *jobState
	id  int
}

// canOverlap reports whether the job's pending paths may start while its
// runs go on: no full sync on either side, a small pending set, and no
// pending path equal to, inside or above a running one.
func (j *jobState) canOverlap(limit int) bool {
	if len(j.runs) == 0 {
		return true
	}
	if j.wholeOnly {
		return false // each of its runs walks the whole tree
	}
	// A run that is only exiting (transferred) holds no path and moves no
	// data: only its process counts, against MaxProcs.
	if j.active() >= limit || j.full || len(j.pending) > overlapMax && !j.onlyFullRunning() {
		return false
	}
	for _, r := range j.runs {
		if r.full {
			// A change during a full run (the startup sync, a resync)
			// need not wait for it: it runs now, and once more after
			// the full run (see againAfterFull), which may have copied an
			// older version of the same file after it.
			continue
		}
		if len(r.paths) > overlapMax {
			return false
		}
		if r.transferred {
			// Its files are in place: a newer version of one of them
			// cannot be overwritten by it any more. Only small runs
			// get here (above): a big run keeps holding up its paths,
			// or a burst would become many small runs, one beside each
			// big one.
			continue
		}
		for p := range j.pending {
			for _, q := range r.paths {
				if related(p, q) {
					return false
				}
			}
		}
	}
	return true
}

// onlyFullRunning reports whether every run of the job still transferring
// is a full one. Beside a full run (a startup sync of a million
// directories takes minutes) pending paths go however many they are
// (below max_pending, past which the job is synced whole): the changes
// that piled up while the tree was walked must not wait for it.
func (j *jobState) onlyFullRunning() bool {
	for _, r := range j.runs {
		if !r.full && !r.transferred {
			return false
		}
	}
	return true
}

// related reports whether two listed paths are the same or one lies below
// the other (a trailing '/' marks a directory and does not count).
func related(a, b string) bool {
	a, b = strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/")
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// Dispatch runs rsync for the work that arrives on in, per (tree, node),
// until in is closed; then it flushes what is pending once, waits for the
// running rsyncs (bounded by StopTimeout) and returns. A failed run keeps
// its paths pending for that node and is retried with backoff while the
// other nodes go on. It returns an error naming what was not synced.
func Dispatch(in <-chan Work, o Options) error {
	d := newDispatcher(o)
	return d.loop(in)
}

// dispatcher is Dispatch's state. Only the goroutine in loop touches it;
// it never waits for a process: runs, and the start and retirement of
// warm rsyncs, happen in goroutines that report back on channels.
type dispatcher struct {
	o       Options
	jobs    []*jobState
	turn    int // the job startReady looks at first
	byTree  map[int][]*jobState
	running int // rsync runs going on
	// Warm rsyncs count against MaxProcs from the moment they are asked
	// for until they have exited: waiting for a list, being started, or
	// being retired.
	warmWaiting, warmStarting, warmRetiring int
	results                                 chan result
	transferred                             chan runKey // runs whose transfer is complete (see running.transferred)
	retry                                   chan retryTick
	unreadableDue                           chan *jobState // a job whose set-aside paths may be due
	warmStarted                             chan warmStart // see keepWarm
	warmRetired                             chan struct{}  // see retireWarm
	wantWarm                                []*jobState    // keepWarm's buffer
	// removed are the jobs a reload removed that may still have a run or
	// an after command going (see replacedBusy).
	removed []*jobState
	// goneTrees are the sources of the trees a reload removed, by id: the
	// changes their watchers still hand on are said to be dropped.
	goneTrees    map[int]string
	afterDone    chan afterDone // see startAfter
	afterRunning int            // after commands going on
	// warmTimer wakes the loop when a job may start a warm rsync again,
	// or a stream ends (see keepWarm); warmC is its channel while it is
	// armed, for warmDue.
	warmTimer *time.Timer
	warmC     <-chan time.Time
	warmDue   time.Time
	// warmStarter starts a warm rsync (startWarm; a test's stand-in).
	warmStarter func(kill context.Context, j Job) (*warmRsync, error)
	kill        context.Context
	cancel      context.CancelFunc
	// done is closed when loop returns: a goroutine reporting after that
	// gives up instead of waiting.
	done chan struct{}
}

func newDispatcher(o Options) *dispatcher {
	if o.Overlap <= 0 {
		o.Overlap = 2
	}
	if o.Backoff.Min <= 0 {
		o.Backoff.Min = time.Second
	}
	if o.Backoff.Max <= 0 {
		o.Backoff.Max = 30 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = time.Minute
	}
	if o.SlowRun <= 0 {
		o.SlowRun = DefaultSlowRun
	}
	if o.StreamGap <= 0 {
		o.StreamGap = time.Second
	}
	d := &dispatcher{
		o:             o,
		byTree:        map[int][]*jobState{},
		results:       make(chan result, chanRoom),
		transferred:   make(chan runKey, chanRoom),
		retry:         make(chan retryTick, chanRoom),
		unreadableDue: make(chan *jobState, chanRoom),
		warmStarted:   make(chan warmStart, chanRoom),
		warmRetired:   make(chan struct{}, chanRoom),
		afterDone:     make(chan afterDone, chanRoom),
		done:          make(chan struct{}),
		warmStarter:   startWarm,
	}
	d.kill, d.cancel = context.WithCancel(context.Background())
	now := time.Now()
	for _, j := range o.Jobs {
		js := d.addJob(j)
		js.since = now
		d.byTree[j.Tree] = append(d.byTree[j.Tree], js)
	}
	return d
}

// chanRoom is the buffer of the channels on which runs and timers report
// to the loop: room for a burst, so that they seldom wait for it.
const chanRoom = 64

// report sends v on ch for the loop, or gives up once the loop has
// returned.
func report[T any](d *dispatcher, ch chan<- T, v T) {
	select {
	case ch <- v:
	case <-d.done:
	}
}

// notify tells Options.Changed that the status may have changed.
func (d *dispatcher) notify() {
	if d.o.Changed == nil {
		return
	}
	select {
	case d.o.Changed <- struct{}{}:
	default: // one notice is waiting already
	}
}

// procs is the number of rsync processes: runs and warm ones.
func (d *dispatcher) procs() int { return d.running + d.warmWaiting + d.warmStarting + d.warmRetiring }

// maxProcs is the bound on procs: Options.MaxProcs, or Overlap+3 per job.
func (d *dispatcher) maxProcs() int {
	if d.o.MaxProcs > 0 {
		return d.o.MaxProcs
	}
	n := 0
	for _, j := range d.jobs {
		if !j.removed {
			n++
		}
	}
	return max(n, 1) * (d.o.Overlap + 3)
}

func (d *dispatcher) loop(in <-chan Work) error {
	defer close(d.done)
	defer d.cancel()
	defer d.endWarm()
	var stop <-chan time.Time
	var kill <-chan struct{} // Options.Kill, watched during the final flush
	draining := false
	for {
		killed := d.kill.Err() != nil // the stop timeout or Kill: nothing more starts
		if !killed {
			d.startReady()
		}
		if !draining {
			d.keepWarm()
		}
		if draining && d.running == 0 && d.afterRunning == 0 && (killed || !d.anyPending()) {
			return d.unsynced()
		}
		select {
		case w, ok := <-in:
			if !ok {
				in = nil
				draining = true
				// A final flush: no more waiting out backoff; set-aside
				// paths are tried once more.
				for _, j := range d.jobs {
					j.waiting = false
					d.retryUnreadable(j, time.Now(), true)
				}
				t := time.NewTimer(d.o.StopTimeout)
				defer t.Stop()
				stop, kill = t.C, d.o.Kill
				continue
			}
			since := w.Since
			if since.IsZero() {
				since = time.Now()
			}
			if path, gone := d.goneTrees[w.Tree]; gone && len(d.byTree[w.Tree]) == 0 {
				d.o.Logger.Warn().Str("path", path).Int("paths", len(w.Paths)).Bool("full", w.Full).
					Msg("tree removed by the reload; changes it still held are dropped")
			}
			for _, j := range d.byTree[w.Tree] {
				j.addMoves(w.Moves)
				d.noteRenamed(j, w.Renamed)
				if w.RenamedLost {
					lg := d.jobLogger(j)
					lg.Warn().Msg("more renames in one batch than max_pending: the new names past it are compared by size and time only, and a file renamed over another of the same size and time may stay on the node")
				}
				d.merge(j, w.Paths, w.Full, false, since)
				if j.heldMaxDelete { // a new change: try again
					j.heldMaxDelete, j.waiting = false, false
				}
			}
			d.notify()
		case req := <-d.o.Control:
			req.handle(d)
		case r := <-d.results:
			d.finish(r, draining)
		case k := <-d.transferred:
			if r, ok := k.job.runs[k.id]; ok {
				r.transferred = true
				k.job.runs[k.id] = r
			}
		case s := <-d.warmStarted:
			d.warmReady(s, draining)
		case <-d.warmRetired:
			d.warmRetiring--
		case a := <-d.afterDone:
			d.finishAfter(a)
		case <-d.warmC:
			d.warmC = nil // keepWarm, at the top of the loop, starts it
		case t := <-d.retry:
			if j := t.job; j.waiting && j.retryGen == t.gen {
				j.waiting = false
			}
		case j := <-d.unreadableDue:
			if !draining && !j.removed {
				d.retryUnreadable(j, time.Now(), false)
			}
		case <-stop:
			d.o.Logger.Error().Dur("timeout", d.o.StopTimeout).Int("running", d.running).Int("after_commands", d.afterRunning).
				Msg("stopping: rsync or after commands still running after the stop timeout; killing them")
			d.cancel()
			stop = nil
		case <-kill:
			d.o.Logger.Error().Int("running", d.running).Int("after_commands", d.afterRunning).
				Msg("stopping now (a second stop signal): killing the rsync and after commands still running")
			d.cancel()
			kill = nil
		}
	}
}

// merge adds paths, seen first at since, to a job's pending set; past
// MaxPending the job syncs its whole tree instead.
func (d *dispatcher) merge(j *jobState, paths []string, full, initial bool, since time.Time) {
	if j.removed {
		return
	}
	if !j.hasPending() || since.Before(j.since) {
		j.since = since
	}
	if full {
		j.full = true
		j.initial = j.initial || initial
		clear(j.pending)
		return
	}
	if j.full {
		return
	}
	for _, p := range paths {
		if p == "" || p == "/" {
			j.full = true
			clear(j.pending)
			return
		}
		j.pending[p] = struct{}{}
	}
	if d.o.MaxPending > 0 && len(j.pending) > d.o.MaxPending {
		j.full = true
		clear(j.pending)
	}
}

func (d *dispatcher) anyPending() bool {
	for _, j := range d.jobs {
		if j.hasPending() && !j.gaveUp && !j.removed {
			return true
		}
	}
	return false
}

// startReady starts a run for every job that has pending work and is not
// backing off, while the process bound allows: one at a time per job, or
// more (up to Overlap) for paths disjoint from those of its running runs.
// The jobs take turns, from the one after the job that started last, so
// that a busy job cannot keep every process slot from the others.
func (d *dispatcher) startReady() {
	for k := range d.jobs {
		i := (d.turn + k) % len(d.jobs)
		j := d.jobs[i]
		if j.waiting || j.gaveUp || j.removed || !j.hasPending() || !j.canOverlap(d.o.Overlap) || d.replacedBusy(j, false) {
			continue
		}
		full, initial := j.full, j.initial
		// whole: the run walks the whole tree, a full sync or the changes
		// of a job whose extra adds filter rules (see wholeOnly).
		whole := full || j.wholeOnly
		var paths, exclude []string
		if !full {
			paths = collapse(j.pending)
		}
		paths, exclude = j.unreadable.leaveOut(paths)
		if !full && len(paths) == 0 {
			clear(j.pending) // all of it waits for set-aside paths
			continue
		}
		dirs := hasDir(paths)
		if !whole && !dirs {
			exclude = nil // nothing in the list to exclude from
		}
		// A warm rsync takes a short list when its command line needs
		// nothing more: no walk for exclude functions, no set-aside paths
		// to exclude. It already holds its process slot.
		var moves []Move
		if !whole && len(exclude) == 0 {
			moves = j.takeMoves(paths)
		}
		var w *warmRsync
		if !whole && len(j.warm) > 0 && len(paths) <= warmListMax && (j.Exclude == nil || !dirs) && len(exclude) == 0 && len(moves) == 0 {
			w = d.takeWarm(j)
			j.warmAt = time.Now().Add(warmDelay)
		}
		if w == nil && d.procs() >= d.maxProcs() {
			// A warm rsync that is retired frees its slot once it has
			// exited (warmRetired brings the loop back); one at a time.
			if d.warmRetiring == 0 {
				d.reclaimWarm()
			}
			return
		}
		j.full, j.initial = false, false
		clear(j.pending)
		clear(j.moves)
		renamed := j.takeRenamed(paths, full, moves)
		if whole && !full {
			// Sent by content in a run for a list, which would not apply
			// extra's filter rules as a walk of the whole tree does: they
			// are compared by size and time only.
			renamed = nil
		}
		if !whole {
			now := time.Now()
			j.streaming = now.Sub(j.listed) < d.o.StreamGap
			j.listed = now
		}
		d.turn = i + 1
		id := j.nextRun
		j.nextRun++
		if !full && j.fullRunning() {
			for _, p := range paths {
				j.againAfterFull[p] = struct{}{}
			}
		}
		run := running{full: full, whole: whole, initial: initial, paths: paths, moves: moves, renamed: renamed, exclude: exclude, since: j.since}
		j.runs[id] = run
		d.running++
		job := j.Job // a copy: a reload may replace j.Job while the run goes on
		go func() {
			r := d.run(j, job, run, w, func() { report(d, d.transferred, runKey{j, id}) })
			r.id = id
			report(d, d.results, r)
		}()
	}
}

// finish books a run's result: success clears the failure count; a failure
// puts the paths back and arms a retry with backoff.
func (d *dispatcher) finish(r result, draining bool) {
	j := r.job
	run := j.runs[r.id]
	delete(j.runs, r.id)
	d.running--
	defer d.notify()
	now := time.Now()
	if !d.o.Pretend && r.exit != exitRefused { // a refused run ran no rsync
		j.rec.observe(r.took)
	}
	if r.full && len(j.againAfterFull) > 0 {
		d.merge(j, collapse(j.againAfterFull), false, false, now)
		clear(j.againAfterFull)
	}
	if j.removed {
		// A run that went on across the reload that removed its job:
		// its end is said, nothing is retried.
		if r.err != nil {
			lg := d.jobLogger(j)
			lg.Warn().Err(r.err).Int("exit", r.exit).Str("stderr", r.stderr).Msg("rsync of a tree or node removed by a reload failed; not retried")
		}
		return
	}
	if r.err == nil {
		d.readableAgain(j, r, run)
		if j.failures > 0 {
			d.reportRecovery(j, r, now)
		}
		j.failures = 0
		j.rec.lastSuccess, j.rec.failingSince = now, time.Time{}
		d.queueAfter(j, r)
		return
	}
	d.noteRenamed(j, r.renamed) // the retry sends them by content too
	if r.exit == exitPartial && d.setAside(j, r, run, now, draining) {
		return
	}
	d.merge(j, r.paths, r.full, r.initial, run.since)
	j.failures++
	j.rec.failed++
	j.rec.lastExit, j.rec.lastError = r.exit, failureLine(j.Dest, r)
	if j.failures == 1 {
		j.rec.failingSince = now
	}
	if draining {
		j.gaveUp = true
		lg := d.jobLogger(j)
		lg.Error().Err(r.err).Int("exit", r.exit).Str("stderr", r.stderr).Msg("rsync failed during the final flush; changes stay unsynced")
		return
	}
	if r.exit == exitMaxDelete {
		j.waiting, j.heldMaxDelete = true, true
		j.retryGen++ // no retry tick ends this wait
		j.rec.nextRetry = time.Time{}
		lg := d.jobLogger(j)
		lg.Error().Err(r.err).Int("exit", r.exit).Str("stderr", r.stderr).
			Msg("rsync stopped deleting at --max-delete: it would delete more on the target than extra allows; not retried until the next change or inosync resync")
		return
	}
	wait := d.backoff(j.failures)
	if configFault(r.exit) {
		wait = d.o.Backoff.Max // retrying sooner cannot mend the config
	}
	j.waiting = true
	j.retryGen++
	j.rec.nextRetry = now.Add(wait)
	d.reportFailure(j, r, wait, now)
	t := retryTick{j, j.retryGen}
	time.AfterFunc(wait, func() { report(d, d.retry, t) })
}

// unsynced returns nil when every job ended in sync, else an error naming
// each job with changes left.
func (d *dispatcher) unsynced() error {
	var left []string
	for _, j := range d.jobs {
		if j.removed {
			continue
		}
		var what []string
		switch {
		case j.full:
			what = append(what, "a full sync")
		case len(j.pending) > 0:
			what = append(what, fmt.Sprintf("%d paths", len(j.pending)))
		}
		if len(j.unreadable) > 0 {
			what = append(what, fmt.Sprintf("%d paths rsync cannot read: %s", len(j.unreadable), strings.Join(j.unreadable.names(3), ", ")))
		}
		if len(what) > 0 {
			left = append(left, fmt.Sprintf("%s to %s (%s)", j.Path, j.Dest, strings.Join(what, "; ")))
		}
	}
	if len(left) == 0 {
		return nil
	}
	return fmt.Errorf("not synced: %s", strings.Join(left, "; "))
}

// collapse returns the pending paths sorted, without those that a pending
// directory (ending in '/') already covers.
func collapse(set map[string]struct{}) []string {
	paths := make([]string, 0, len(set))
	for p := range set {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	out := paths[:0]
	var dir string
	for _, p := range paths {
		if dir != "" && strings.HasPrefix(p, dir) {
			continue
		}
		out = append(out, p)
		if strings.HasSuffix(p, "/") {
			dir = p
		} else {
			dir = ""
		}
	}
	return out
}
