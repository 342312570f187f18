package rsync

import (
	"slices"
	"time"
)

// Request is something asked of a running dispatcher on Options.Control:
// a StatusRequest, a ResyncRequest or a Reconfigure. The dispatcher's
// goroutine handles it between two of its other steps, so an answer
// reflects one consistent moment.
type Request interface {
	handle(d *dispatcher)
}

// StatusRequest asks for the state of every job. Reply must have room for
// one value: the dispatcher never waits for the asker.
type StatusRequest struct {
	Reply chan<- Status
}

// ResyncRequest asks for a full sync of the listed trees now (every tree
// when Trees is nil), cutting a failed job's backoff short.
type ResyncRequest struct {
	Trees []int
	// Reply, if not nil, gets the number of jobs that will sync; it must
	// have room for one value.
	Reply chan<- int
}

// Reconfigure replaces the dispatcher's jobs (a reload). A job is known
// by its tree and destination: one that stays keeps what it has pending,
// its runs and its record, and takes the new settings from its next run;
// a new one gets a full initial sync (when Options.Initial); one that goes
// has its pending changes logged as dropped.
type Reconfigure struct {
	Jobs       []Job
	MaxProcs   int   // as Options.MaxProcs
	MaxPending int   // as Options.MaxPending
	Full       []int // trees to sync whole once (their excludes changed)
	// Initial are trees whose next full sync is an initial one (their
	// init turned on): the initial command line, deleting as the
	// initial sync does.
	Initial []int
	// Reply, if not nil, is closed once the new jobs are in place.
	Reply chan<- struct{}
}

// Status is a dispatcher's state at one moment.
type Status struct {
	At       time.Time
	Jobs     []JobStatus // in the order of the jobs given
	Procs    int         // rsync processes now, warm ones included
	MaxProcs int
}

// JobState is what a job is doing, as `inosync status` shows it.
type JobState string

// The states of a job, from the most to the least urgent.
const (
	StateFailing JobState = "failing"      // its last run failed; it waits to retry
	StateInitial JobState = "initial sync" // its first full sync is pending or running
	StateRunning JobState = "running"      // a run is going on
	StatePending JobState = "pending"      // changes wait for a process slot
	StateInSync  JobState = "in sync"      // nothing pending, nothing running
)

// JobStatus is one job's state and record.
type JobStatus struct {
	Tree       int
	Path, Node string // as Job; Node is "(local)" for a local target
	Dest       string
	State      JobState
	Pending    int  // paths not yet synced: waiting for a run, or in one (not counting a full sync)
	Full       bool // a full sync is pending or running
	Running    int  // runs going on
	// Oldest is when the oldest change not yet synced was seen (zero when
	// there is none): pending, in a running run, or put back by a failure.
	Oldest      time.Time
	LastSuccess time.Time // end of the last successful run; zero if none yet
	// FailingSince is when the current run of failures began; zero when
	// the last run succeeded.
	FailingSince time.Time
	Failures     int    // consecutive failed runs
	LastExit     int    // exit status of the last failed run
	LastError    string // the last line rsync printed when it last failed
	NextRetry    time.Time
	Runs, Failed int // runs and failed runs since the daemon started
	// Unreadable are the paths set aside because rsync could not read
	// them, sorted by path.
	Unreadable []UnreadableStatus
	// After is the job's after command; nil when it has none.
	After *AfterStatus
	// Durations counts the runs' durations in the buckets of
	// DurationBuckets (the last count is for longer runs); DurationSum is
	// their sum in seconds.
	Durations   []uint64
	DurationSum float64
}

// UnreadableStatus is a path set aside because rsync could not read it:
// the tree's runs leave it out, and it is tried again on its own.
type UnreadableStatus struct {
	Path      string // in the tree
	Since     time.Time
	Failures  int
	Error     string // what rsync said about it the last time
	NextRetry time.Time
}

// DurationBuckets are the upper bounds, in seconds, of the buckets of
// JobStatus.Durations.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800}

func (r StatusRequest) handle(d *dispatcher) {
	s := Status{At: time.Now(), Procs: d.procs(), MaxProcs: d.maxProcs()}
	for _, j := range d.jobs {
		if !j.removed {
			s.Jobs = append(s.Jobs, j.status())
		}
	}
	select {
	case r.Reply <- s:
	default: // no room: the asker broke the rule; the dispatcher goes on
	}
}

func (r ResyncRequest) handle(d *dispatcher) {
	n := 0
	all := r.Trees == nil
	for _, j := range d.jobs {
		if j.removed || !(all || slices.Contains(r.Trees, j.Tree)) {
			continue
		}
		d.merge(j, nil, true, false, time.Now())
		d.retryUnreadable(j, time.Now(), true) // the asker may have made them readable
		j.waiting = false                      // the asker wants it now, not after the backoff
		j.gaveUp, j.heldMaxDelete = false, false
		n++
	}
	d.notify()
	if r.Reply != nil {
		select {
		case r.Reply <- n:
		default:
		}
	}
}

func (r Reconfigure) handle(d *dispatcher) {
	type key struct {
		tree int
		dest string
	}
	old := map[key]*jobState{}
	for _, j := range d.jobs {
		if !j.removed {
			old[key{j.Tree, j.Dest}] = j
		}
	}
	d.o.MaxProcs, d.o.MaxPending = r.MaxProcs, r.MaxPending
	d.byTree = map[int][]*jobState{}
	now := time.Now()
	for _, nj := range r.Jobs {
		k := key{nj.Tree, nj.Dest}
		j, ok := old[k]
		if ok {
			delete(old, k)
			if !sameSettings(j.Job, nj) {
				d.retireAllWarm(j) // started with the old command line
				j.waiting = false  // a fault the new settings may mend: try now
				j.gen++            // a warm rsync being started has the old command line too
			}
			j.setJob(nj)
		} else {
			j = d.addJob(nj)
			j.since = now
		}
		d.byTree[j.Tree] = append(d.byTree[j.Tree], j)
		if initial := slices.Contains(r.Initial, j.Tree); initial || slices.Contains(r.Full, j.Tree) {
			d.merge(j, nil, true, initial, now)
			j.waiting, j.heldMaxDelete = false, false // wanted now
		}
	}
	for _, j := range old {
		d.removeJob(j)
		if len(d.byTree[j.Tree]) == 0 {
			if d.goneTrees == nil {
				d.goneTrees = map[int]string{}
			}
			d.goneTrees[j.Tree] = j.Path
		}
	}
	d.notify()
	if r.Reply != nil {
		close(r.Reply)
	}
}

// addJob makes the book of a new job, with the initial sync pending when
// the dispatcher was asked for initial syncs and the job has one.
func (d *dispatcher) addJob(j Job) *jobState {
	initial := d.o.Initial && !j.NoInitial
	js := &jobState{pending: map[string]struct{}{}, runs: map[int]running{}, againAfterFull: map[string]struct{}{}, unreadable: unreadableSet{}, full: initial, initial: initial}
	js.setJob(j)
	d.jobs = append(d.jobs, js)
	if d.o.Initial && j.NoInitial {
		lg := d.jobLogger(js)
		lg.Warn().Msg("no initial sync (init = False): the target may differ from the source until a change or a resync syncs it")
	}
	return js
}

// removeJob ends a job that a reload removed: what it had pending is
// dropped, and said so; it leaves the job list, and its runs end on their
// own and are booked as usual (a result carries its job). While a run or
// its after command goes on it is kept in d.removed (see replacedBusy).
func (d *dispatcher) removeJob(j *jobState) {
	j.removed = true
	if i := slices.Index(d.jobs, j); i >= 0 {
		d.jobs = slices.Delete(d.jobs, i, i+1)
		if i < d.turn {
			d.turn-- // the job after it keeps its turn
		}
	}
	if len(j.runs) > 0 || j.after.running {
		d.removed = append(d.removed, j)
	}
	d.retireAllWarm(j)
	if j.unreadableTimer != nil {
		j.unreadableTimer.Stop()
	}
	if j.hasPending() {
		e := d.o.Logger.Warn().Str("path", j.Path).Str("node", nodeName(j.Node))
		if j.full {
			e = e.Bool("full", true)
		}
		e.Int("paths", len(j.pending)).Msg("tree or node removed by the reload; its pending changes are dropped")
	}
	j.full, j.initial = false, false
	clear(j.pending)
	clear(j.againAfterFull)
}

// replacedBusy reports whether a job that a reload removed, for the same
// source and destination as j, still has a run going (after: an after
// command): j (the tree or node added back) must not write to the target
// beside it, nor run its after command beside that one. Removed jobs that
// are done are forgotten here.
func (d *dispatcher) replacedBusy(j *jobState, after bool) bool {
	busy := false
	kept := d.removed[:0]
	for _, k := range d.removed {
		if len(k.runs) == 0 && !k.after.running {
			continue
		}
		kept = append(kept, k)
		going := len(k.runs) > 0
		if after {
			going = k.after.running
		}
		busy = busy || going && k != j && k.Path == j.Path && k.Dest == j.Dest
	}
	clear(d.removed[len(kept):])
	d.removed = kept
	return busy
}

// nodeName is how logs and the status name a node: "(local)" for a target
// on this machine.
func nodeName(node string) string {
	if node == "" {
		return "(local)"
	}
	return node
}

// sameSettings reports whether two versions of a job run the same rsync
// command lines.
func sameSettings(a, b Job) bool {
	return a.Settings.Rsync == b.Settings.Rsync && slices.Equal(a.Settings.Extra, b.Settings.Extra) &&
		a.Settings.Bwlimit == b.Settings.Bwlimit && a.Settings.Logfile == b.Settings.Logfile &&
		slices.Equal(a.Settings.Excludes, b.Settings.Excludes) && a.Settings.Timeout == b.Settings.Timeout &&
		a.Settings.Delete == b.Settings.Delete
}
