package watch

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// Batch is what the coalescer hands on: the paths to sync for one tree.
type Batch struct {
	// Paths are sorted paths relative to the tree's root. A directory to
	// sync recursively ends in "/" ("a/b/"); any other path (a file, or a
	// directory whose own attributes changed) has no trailing slash.
	// Removed and renamed-away paths are listed like the others: rsync
	// deletes what is missing. Paths is nil when Full is set.
	Paths []string
	// Full means "sync the whole tree".
	Full bool
	// First is when the first change of the batch was seen.
	First time.Time
	// Moves are renames within the tree whose old and new names are both
	// in Paths (see Change.From).
	Moves []Move
	// Renamed are the new names of every rename within the tree in the
	// batch, sorted, whether or not Moves holds it: under such a name the
	// target may still hold another file (a swap, a rotation), which a
	// size-and-time check cannot tell from the one moved in. Set with
	// Full too. RenamedLost: there were more than MaxPaths of them, and
	// the rest are not listed.
	Renamed     []string
	RenamedLost bool
	// Open are files handed on while still open for writing, because the
	// coalescer was stopping (see CoalesceOptions.Writing): what rsync
	// copies of them may be only part of what their writer goes on to
	// write. Sorted; set with Full too.
	Open []string
}

// Move is a rename within a tree: To holds what From held.
type Move struct{ From, To string }

// Backlog is what a coalescer holds back (waiting out its delay, or for
// the consumer), published for readers on other goroutines: a status
// asks it without disturbing the coalescer.
type Backlog struct {
	paths atomic.Int64 // pending entries; -1 = a full sync
	first atomic.Int64 // Unix ns of the oldest change held; 0 = none
	// Notify, if not nil, gets a value (without waiting) when the
	// backlog goes from empty to not empty.
	Notify chan<- struct{}
}

// Load returns the entries held (full when the whole tree is to be
// synced) and when the oldest of them was seen (zero when none).
func (b *Backlog) Load() (paths int, full bool, first time.Time) {
	n, f := b.paths.Load(), b.first.Load()
	if f != 0 {
		first = time.Unix(0, f)
	}
	return max(int(n), 0), n < 0, first
}

// store publishes what the coalescer holds.
func (b *Backlog) store(paths int, full bool, first time.Time) {
	n := int64(paths)
	if full {
		n = -1
	}
	var f int64
	if n != 0 {
		f = first.UnixNano()
	}
	if b.first.Swap(f) == 0 && f != 0 && b.Notify != nil {
		select {
		case b.Notify <- struct{}{}:
		default:
		}
	}
	b.paths.Store(n)
}

// Clock is the coalescer's source of time; tests pass a fake.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// C delivers the time once the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it returns false if the timer
	// has already fired or been stopped.
	Stop() bool
}

// SystemClock is the real Clock, backed by package time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a Timer backed by time.NewTimer.
func (SystemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }

// CoalesceOptions configures Coalesce.
type CoalesceOptions struct {
	// Delay is how long changes are collected, counted from the first
	// change of a batch (edelay). 0 hands a batch on at once, with
	// everything already queued on the input.
	Delay time.Duration
	// MaxPaths: past this many pending paths, the batch becomes Full, so
	// that a flood of changes costs one full sync and bounded memory. 0
	// means no bound. The daemon passes the config's max_pending, which
	// owns the default.
	MaxPaths int
	// PerDir: past this many pending entries directly under one directory
	// (other than the root), they are replaced by that directory, synced
	// recursively. 0 means 128.
	PerDir int
	// Clock is the source of time; nil means SystemClock.
	Clock Clock
	// Settled, if not nil, says whether a pending file has settled: its
	// write is over and every event it made has been taken in (see
	// Watcher.Settled). A small batch (at most settleMax paths, none a
	// directory synced recursively) that follows a quiet spell (no batch
	// due for settleQuiet) is handed on as soon as all its files have
	// settled, without waiting out Delay: fsnotify reports no close, so
	// this is how a finished write is told from one in progress. Meant for
	// the shortest Delay only (edelay = 0), which exists to gather a
	// write's several events into one batch. A wrong "settled" costs an
	// extra run, never a change: a later event makes a batch of its own.
	Settled func(Settling) bool
	// Backlog, if not nil, is kept up to date with what the coalescer
	// holds.
	Backlog *Backlog
	// Writing, if not nil, says whether a file is open for writing (see
	// Watcher.Writing). When a batch of at most holdProbeMax paths is due,
	// its files that are still open are held back, and handed on once
	// they are closed (asked again soon, then less and less often) or
	// have been held for HoldOpen: a file written slowly is synced once,
	// after its writer closed it, instead of once per batch of its writes,
	// and a file written forever (a log) at most once per HoldOpen. 0
	// HoldOpen holds nothing.
	Writing  func(rel string) bool
	HoldOpen time.Duration
}

// Settling is a pending file that CoalesceOptions.Settled is asked about.
type Settling struct {
	// Rel is the file's path relative to the tree's root.
	Rel string
	// Ops are the ops of its changes in this batch; quiet changes (outside
	// Options.Trigger) count none.
	Ops Op
	// Seen is when its latest change was taken in (the zero time for a
	// quiet change).
	Seen time.Time
}

// DefaultPerDir is CoalesceOptions.PerDir when it is 0.
const DefaultPerDir = 128

// Limits of CoalesceOptions.Settled: the probe is asked only about batches
// of at most settleMax paths, and only when no batch became due in the
// last settleQuiet. In a stream of changes (a copy, an unpacking archive)
// batches keep waiting out Delay, so that a run carries many paths rather
// than one each.
const (
	settleMax   = 4
	settleQuiet = 10 * time.Millisecond
)

// Limits of CoalesceOptions.Writing: only batches of at most holdProbeMax
// paths are probed (a burst of many files is handed on as it is: probing
// each would cost more than it saves), and held files are asked about
// again after holdFirstRecheck, then at doubling intervals up to
// holdRecheck: most writes end within milliseconds, a slow one is not
// asked about more than five times a second.
const (
	holdProbeMax     = 64
	holdFirstRecheck = 10 * time.Millisecond
	holdRecheck      = 200 * time.Millisecond
)

// Coalesce collects the changes of one tree from in and hands them on to
// out as batches, and closes out when it returns. It is the one goroutine
// that owns the pending set (see pending for the rules that shrink it).
//
// A batch is due Delay after its first change, or earlier when
// opts.Settled says its few files are complete. Intake never waits for the
// consumer: while a due batch waits for out to take it, changes keep being
// collected, and are folded into the waiting batch (or handed on right
// after it). No timer runs while nothing is pending.
//
// When ctx is done, Delay is no longer awaited: what is pending goes out at
// once, and so does every change still arriving. Coalesce returns only when
// in is closed, after handing on what is left as one last batch (that send
// waits for the consumer), so a change the watcher saw before it stopped is
// never dropped. The producer closes in once it has stopped.
func Coalesce(ctx context.Context, in <-chan Change, out chan<- Batch, opts CoalesceOptions) {
	c := newCoalescer(in, out, opts)
	defer close(out)
	defer c.stopTimer()
	defer c.stopRecheck()
	done := ctx.Done()
	for {
		c.growHeld()
		c.publish()
		outC, b := c.offer()
		select {
		case <-done:
			done = nil
			c.stopping()
		case ch, ok := <-in:
			if !ok {
				c.finish()
				return
			}
			c.intake(ch)
			c.schedule()
		case <-c.timerC:
			c.timer, c.timerC = nil, nil
			c.schedule()
		case outC <- b:
			c.held = nil
			c.schedule()
		case <-c.recheckC:
			c.recheck, c.recheckC = nil, nil
			c.releaseWriting(false)
		}
	}
}

// coalescer is Coalesce's state; only Coalesce's goroutine touches it.
type coalescer struct {
	in    <-chan Change
	out   chan<- Batch
	opts  CoalesceOptions
	clock Clock

	p *pending
	// dirty holds quiet changes (ops outside the trigger mask): they start
	// no batch, and ride along with the next one.
	dirty     *pending
	held      *Batch    // a due batch waiting for out to take it
	heldFirst time.Time // when held's first change came
	timer     Timer     // runs only while p has changes and held is nil
	timerC    <-chan time.Time
	lastDue   time.Time  // when a batch last became due
	scratch   []Settling // files to ask opts.Settled about
	// writing holds the files of due batches that were still open for
	// writing, with when the change that brought each was seen (see
	// CoalesceOptions.Writing).
	writing map[string]time.Time
	// writingRenamed: those of them that a rename put in place, handed on
	// with them in Batch.Renamed.
	writingRenamed map[string]struct{}
	recheck        Timer // runs only while writing holds files
	recheckC       <-chan time.Time
	recheckAfter   time.Duration // the next recheck's wait
	// stopped: the context is done (see stopping).
	stopped bool
}

func newCoalescer(in <-chan Change, out chan<- Batch, opts CoalesceOptions) *coalescer {
	clock := opts.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	return &coalescer{in: in, out: out, opts: opts, clock: clock, p: newPending(opts), dirty: newPending(opts),
		writing: map[string]time.Time{}, writingRenamed: map[string]struct{}{}}
}

// publish updates opts.Backlog, if any, with what is held now.
func (c *coalescer) publish() {
	bl := c.opts.Backlog
	if bl == nil {
		return
	}
	n, full, first := c.p.len(), c.p.full, c.p.first
	for rel, since := range c.writing {
		if !c.p.covers(rel) { // written again: counted once
			n++
		}
		if first.IsZero() || since.Before(first) {
			first = since
		}
	}
	if c.held != nil {
		n += len(c.held.Paths)
		full = full || c.held.Full
		first = c.heldFirst
	}
	if n == 0 && !full {
		first = time.Time{}
	}
	bl.store(n, full, first)
}

// offer returns the channel and batch to offer the consumer: out and the
// held batch, or a nil channel (never ready) when nothing is held.
func (c *coalescer) offer() (chan<- Batch, Batch) {
	if c.held == nil {
		return nil, Batch{}
	}
	b := *c.held
	b.First = c.heldFirst
	return c.out, b
}

// growHeld folds p into the held batch once p is as big as it: the
// waiting batch grows, at an amortised O(log n) re-sorts.
func (c *coalescer) growHeld() {
	if c.held != nil && !c.p.empty() && (c.p.full || c.p.len() >= len(c.held.Paths)) {
		c.fold()
	}
}

func (c *coalescer) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer, c.timerC = nil, nil
	}
}

// intake takes in one change.
func (c *coalescer) intake(ch Change) {
	if ch.Quiet {
		c.dirty.add(ch, time.Time{})
		return
	}
	now := c.clock.Now()
	first := now // when this change starts a batch
	if c.held != nil && c.p.empty() {
		// The batch this change belongs to is already due: it is handed
		// on right after held, if not folded into it first.
		first = c.heldFirst
	}
	starts := c.p.empty()
	if !c.dirty.empty() {
		c.p.addBatch(c.dirty.take())
	}
	c.p.add(ch, now)
	if starts {
		c.p.first = first
	}
}

// drain takes what is already queued on the input, without blocking; it
// returns false if the input turned out to be closed.
func (c *coalescer) drain() bool {
	for n := len(c.in); n > 0; n-- {
		ch, ok := <-c.in
		if !ok {
			return false
		}
		c.intake(ch)
	}
	return true
}

// fold merges p into held, making held the one batch to hand on.
func (c *coalescer) fold() {
	if c.held == nil {
		if c.p.empty() {
			return
		}
		c.heldFirst = c.p.first
		b := c.p.take()
		c.held = &b
		return
	}
	c.p.addBatch(*c.held)
	b := c.p.take()
	c.held = &b
}

// settled reports whether p may go before its delay (see
// CoalesceOptions.Settled).
func (c *coalescer) settled(now time.Time) bool {
	p := c.p
	if c.opts.Settled == nil || p.full || p.len() > settleMax || now.Sub(c.lastDue) < settleQuiet {
		return false
	}
	var ok bool
	c.scratch, ok = p.files(c.scratch[:0])
	if !ok {
		return false
	}
	for _, f := range c.scratch {
		if !c.opts.Settled(f) {
			return false
		}
	}
	return true
}

// schedule makes p the held batch if it is due, or makes sure a timer
// will say when it is.
func (c *coalescer) schedule() {
	if c.held != nil || c.p.empty() {
		return
	}
	now := c.clock.Now()
	if c.p.due(now) || c.settled(now) {
		c.lastDue = now
		c.stopTimer()
		// What is already queued goes too, unprobed: a file still being
		// written makes another event, and another batch.
		c.drain()
		c.holdWriting()
		c.fold()
		return
	}
	if c.timer == nil {
		c.timer = c.clock.NewTimer(c.p.first.Add(c.p.delay).Sub(now))
		c.timerC = c.timer.C()
	}
}

// stopping is called once when the context is done: the delay is no
// longer awaited, and no file is held for its writer any more.
func (c *coalescer) stopping() {
	c.stopped = true
	c.p.delay = 0
	c.opts.HoldOpen = 0
	c.stopTimer()
	c.releaseWriting(true)
	c.schedule()
}

// finish hands on everything at once, waiting for the consumer.
func (c *coalescer) finish() {
	c.stopTimer()
	c.releaseWriting(true)
	if !c.dirty.empty() { // last chance: nothing seen is dropped
		if c.p.empty() {
			c.p.first = c.clock.Now()
		}
		c.p.addBatch(c.dirty.take())
	}
	c.fold()
	if c.held != nil {
		b := *c.held
		b.First = c.heldFirst
		c.out <- b
		c.held = nil
	}
	c.publish()
}

// holdWriting takes the files that are still open for writing (made or
// written) out of the due batch p and holds them (see CoalesceOptions.Writing); a file
// held already stays held without asking.
func (c *coalescer) holdWriting() {
	if c.opts.HoldOpen <= 0 && !c.stopped || c.opts.Writing == nil || c.p.full || c.p.len() > holdProbeMax {
		return
	}
	files, ok := c.p.files(c.scratch[:0])
	c.scratch = files
	if !ok {
		return
	}
	if c.stopped {
		// Nothing is held at a stop, but the files still open go on as
		// Batch.Open.
		for _, f := range files {
			if c.opts.Writing(f.Rel) {
				c.p.noteOpen(f.Rel)
			}
		}
		return
	}
	var open map[string]bool
	for _, f := range files {
		_, held := c.writing[f.Rel]
		if !held && !c.opts.Writing(f.Rel) {
			continue
		}
		if open == nil {
			open = map[string]bool{}
		}
		open[f.Rel] = true
		if !held {
			// Held since its batch's first change: max_delay counts
			// from when the change was seen, as for any change.
			c.writing[f.Rel] = c.p.first
		}
	}
	if open == nil {
		return
	}
	first := c.p.first
	b := c.p.take()
	kept := b.Paths[:0]
	for _, p := range b.Paths {
		if !open[p] {
			kept = append(kept, p)
		}
	}
	var renamed []string // those of the files not held
	for _, n := range b.Renamed {
		if open[n] {
			c.writingRenamed[n] = struct{}{} // handed on with the file
		} else {
			renamed = append(renamed, n)
		}
	}
	if len(kept) > 0 {
		c.p.addBatch(Batch{Paths: kept, Moves: b.Moves, Renamed: renamed, RenamedLost: b.RenamedLost, Open: b.Open})
		c.p.first = first
	}
	c.armRecheck()
}

// releaseWriting hands on the held files that were closed or held for
// HoldOpen (all of them when all is set, those still open as Batch.Open),
// folded into the batch that waits for the consumer, and asks again later
// about the rest.
func (c *coalescer) releaseWriting(all bool) {
	if len(c.writing) == 0 {
		return
	}
	now := c.clock.Now()
	var paths, open, renamed []string
	first := time.Time{}
	for rel, since := range c.writing {
		if all || now.Sub(since) >= c.opts.HoldOpen || !c.opts.Writing(rel) {
			if all && c.opts.Writing(rel) {
				open = append(open, rel) // handed on while its writer goes on
			}
			if _, ok := c.writingRenamed[rel]; ok {
				delete(c.writingRenamed, rel)
				renamed = append(renamed, rel)
			}
			paths = append(paths, rel)
			delete(c.writing, rel)
			if first.IsZero() || since.Before(first) {
				first = since
			}
		}
	}
	if len(paths) > 0 {
		q := newPending(c.opts)
		if c.held != nil {
			q.addBatch(*c.held)
			if c.heldFirst.Before(first) {
				first = c.heldFirst
			}
		}
		q.addBatch(Batch{Paths: paths, Open: open, Renamed: renamed})
		b := q.take()
		c.held, c.heldFirst = &b, first
	}
	c.stopRecheck()
	c.armRecheck()
}

// armRecheck makes sure a timer asks about the held files again: soon
// after the first is held, then less and less often.
func (c *coalescer) armRecheck() {
	if len(c.writing) == 0 {
		c.recheckAfter = 0
		return
	}
	if c.recheck != nil {
		return
	}
	c.recheckAfter = min(max(2*c.recheckAfter, holdFirstRecheck), holdRecheck)
	c.recheck = c.clock.NewTimer(c.recheckAfter)
	c.recheckC = c.recheck.C()
}

func (c *coalescer) stopRecheck() {
	if c.recheck != nil {
		c.recheck.Stop()
		c.recheck, c.recheckC = nil, nil
	}
}

// pending is the coalescer's pure core: the set of changed paths of one
// tree, kept as a trie so that taking in a change costs O(depth).
//
// Rules: a directory entry that is synced recursively (a Create, Remove or
// Rename of a directory, or a directory standing for its many entries)
// absorbs everything below it, already pending or to come; more than
// perDir entries directly under one directory (other than the root) are
// replaced by that directory; more than maxPaths entries, or a change of
// the root itself, make the batch Full.
type pending struct {
	delay    time.Duration
	maxPaths int
	perDir   int

	root    node
	full    bool
	first   time.Time           // when the first change of this batch came
	moves   map[string]string   // renames within the tree: new name → old
	away    map[string]string   // such new names renamed on: their old names
	renamed map[string]struct{} // every new name of a rename within the tree (Batch.Renamed)
	lost    bool                // Batch.RenamedLost
	open    map[string]struct{} // files handed on while still open for writing (Batch.Open)

	stack []*node // scratch for add
}

// node is one path of the trie.
type node struct {
	children map[string]*node
	self     bool  // the path itself is pending
	rec      bool  // the path and everything below it is pending
	ops      Op    // ops of the path's own changes (Settling.Ops)
	seen     int64 // when its latest change came, Unix ns (Settling.Seen)
	count    int   // pending entries in this subtree, this node included
}

func newPending(opts CoalesceOptions) *pending {
	p := &pending{delay: opts.Delay, maxPaths: opts.MaxPaths, perDir: opts.PerDir}
	if p.perDir <= 0 {
		p.perDir = DefaultPerDir
	}
	return p
}

// empty reports whether nothing is pending.
func (p *pending) empty() bool { return !p.full && p.root.count == 0 }

// len returns the number of pending entries (0 when Full).
func (p *pending) len() int { return p.root.count }

// add takes in one change that happened at now. The first change of a
// batch starts its delay.
func (p *pending) add(c Change, now time.Time) {
	if p.empty() {
		p.first = now
	}
	if c.Rel == "" {
		p.setFull()
		return
	}
	p.noteMove(c)
	n := p.addPath(c.Rel, c.IsDir && c.Op&recursiveOps != 0)
	if n != nil && !c.Quiet {
		n.ops |= c.Op
		n.seen = max(n.seen, now.UnixNano())
	}
}

// addBatch takes in the entries of a batch (which keeps its own time).
func (p *pending) addBatch(b Batch) {
	p.noteRenamed(b.Renamed...)
	p.lost = p.lost || b.RenamedLost
	p.noteOpen(b.Open...)
	if b.Full {
		p.setFull()
		return
	}
	for _, path := range b.Paths {
		rel, rec := strings.CutSuffix(path, "/")
		p.addPath(rel, rec)
	}
	if len(b.Moves) > 0 && p.moves == nil {
		p.moves = map[string]string{}
	}
	for _, m := range b.Moves {
		p.moves[m.To] = m.From
	}
}

// due reports whether the batch has waited its delay at now.
func (p *pending) due(now time.Time) bool {
	return !p.empty() && !now.Before(p.first.Add(p.delay))
}

// files appends the pending paths to fs; ok is false if one of them is a
// directory synced recursively (or the batch is Full), which no probe of a
// single file can say is complete.
func (p *pending) files(fs []Settling) (_ []Settling, ok bool) {
	if p.full {
		return fs, false
	}
	return collectFiles(&p.root, "", fs)
}

// collectFiles appends the entries of n's subtree, n being at path prefix,
// as files; ok is false if one of them is recursive.
func collectFiles(n *node, prefix string, fs []Settling) (_ []Settling, ok bool) {
	if n.rec {
		return fs, false
	}
	if n.self {
		var seen time.Time
		if n.seen != 0 {
			seen = time.Unix(0, n.seen)
		}
		fs = append(fs, Settling{Rel: prefix, Ops: n.ops, Seen: seen})
	}
	for name, child := range n.children {
		if prefix != "" {
			name = prefix + "/" + name
		}
		if fs, ok = collectFiles(child, name, fs); !ok {
			return fs, false
		}
	}
	return fs, true
}

// take returns the batch and empties p.
func (p *pending) take() Batch {
	var b Batch
	if p.full {
		b.Full = true
	} else if p.root.count > 0 {
		b.Paths = make([]string, 0, p.root.count)
		b.Paths = collect(&p.root, "", b.Paths)
		sort.Strings(b.Paths)
		b.Moves = movesIn(p.moves, b.Paths)
	}
	if len(p.renamed) > 0 {
		b.Renamed = slices.Sorted(maps.Keys(p.renamed))
	}
	if len(p.open) > 0 {
		b.Open = slices.Sorted(maps.Keys(p.open))
	}
	b.RenamedLost = p.lost
	p.root, p.full, p.first, p.moves, p.away, p.renamed, p.lost, p.open = node{}, false, time.Time{}, nil, nil, nil, false, nil
	return b
}

// noteMove keeps track of renames within the tree, before c's path is
// added. A rename whose new name (or a path above it) is pending already
// is not kept: what an earlier change left on the target there (a
// symlink where a directory now goes) is not what the move's copy may
// write into. A rename of a name that was itself renamed to keeps the
// first old name (a→b→c copies c from a; a→b→a copies nothing); any other
// change of a new name drops its move (the target's old name may no
// longer match it).
func (p *pending) noteMove(c Change) {
	if c.From == "" {
		if from, ok := p.moves[c.Rel]; ok {
			delete(p.moves, c.Rel)
			if c.Op == Rename { // its new name, if in the tree, comes next
				if p.away == nil {
					p.away = map[string]string{}
				}
				p.away[c.Rel] = from
			}
		}
		return
	}
	p.noteRenamed(c.Rel)
	if p.full || p.covers(c.Rel) {
		return
	}
	from := c.From
	if first, ok := p.away[from]; ok {
		delete(p.away, from)
		from = first
	}
	if from == c.Rel {
		return
	}
	if p.moves == nil {
		p.moves = map[string]string{}
	}
	p.moves[c.Rel] = from
}

// noteOpen records files as handed on while still open (Batch.Open).
func (p *pending) noteOpen(names ...string) {
	for _, n := range names {
		if p.open == nil {
			p.open = map[string]struct{}{}
		}
		p.open[n] = struct{}{}
	}
}

// noteRenamed records names as new names of renames (Batch.Renamed), at
// most maxPaths of them (Batch.RenamedLost).
func (p *pending) noteRenamed(names ...string) {
	for _, n := range names {
		if p.renamed == nil {
			p.renamed = map[string]struct{}{}
		}
		if _, ok := p.renamed[n]; !ok && p.maxPaths > 0 && len(p.renamed) >= p.maxPaths {
			p.lost = true
			continue
		}
		p.renamed[n] = struct{}{}
	}
}

// movesIn returns the moves whose old and new names are both among paths
// (sorted; a directory with its trailing "/"), sorted by new name.
func movesIn(moves map[string]string, paths []string) []Move {
	listed := func(rel string) bool {
		_, ok := slices.BinarySearch(paths, rel)
		_, dir := slices.BinarySearch(paths, rel+"/")
		return ok || dir
	}
	var ms []Move
	for to, from := range moves {
		if listed(to) && listed(from) {
			ms = append(ms, Move{From: from, To: to})
		}
	}
	slices.SortFunc(ms, func(a, b Move) int { return strings.Compare(a.To, b.To) })
	return ms
}

// covers reports whether rel is pending: itself, below a directory synced
// recursively, or in a Full batch.
func (p *pending) covers(rel string) bool {
	if p.full {
		return true
	}
	n := &p.root
	for name := range strings.SplitSeq(rel, "/") {
		if name == "" {
			continue // as addPath does
		}
		if n = n.children[name]; n == nil {
			return false
		}
		if n.rec {
			return true
		}
	}
	return n.self
}

func (p *pending) setFull() {
	p.full = true
	p.root = node{}
	p.moves, p.away = nil, nil // renamed and open stay: a full sync needs them too
}

// addPath records rel, a clean relative path; rec means "rel and everything
// below it". It returns rel's node, or nil when rel is absorbed (by a
// pending ancestor, a collapse or a Full batch).
func (p *pending) addPath(rel string, rec bool) *node {
	if p.full {
		return nil
	}
	n := &p.root
	stack := append(p.stack[:0], n)
	for rest := rel; rest != ""; {
		name := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			name, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if name == "" {
			continue
		}
		child := n.children[name]
		if child == nil {
			if n.children == nil {
				n.children = make(map[string]*node)
			}
			child = &node{}
			n.children[name] = child
		}
		n = child
		stack = append(stack, n)
		if n.rec {
			p.stack = stack
			return nil // absorbed by a pending ancestor (or itself)
		}
	}
	p.stack = stack
	if n == &p.root {
		p.setFull()
		return nil
	}
	var delta int
	switch {
	case rec:
		delta = 1 - n.count // the subtree's entries become one
		n.rec, n.self, n.children = true, false, nil
	case n.self:
		return n
	default:
		n.self = true
		delta = 1
	}
	for _, a := range stack {
		a.count += delta
	}
	// Collapse the highest directory with too many entries (the root is
	// left to maxPaths). Only directories on this path can have grown.
	for k := 1; k < len(stack)-1; k++ {
		if d := stack[k]; len(d.children) > p.perDir {
			delta = 1 - d.count
			d.rec, d.self, d.children = true, false, nil
			for _, a := range stack[:k+1] {
				a.count += delta
			}
			n = nil
			break
		}
	}
	if p.maxPaths > 0 && p.root.count > p.maxPaths {
		p.setFull()
		return nil
	}
	return n
}

// collect appends the entries of n's subtree, n being at path prefix.
func collect(n *node, prefix string, paths []string) []string {
	if n.rec {
		return append(paths, prefix+"/")
	}
	if n.self {
		paths = append(paths, prefix)
	}
	for name, child := range n.children {
		if prefix != "" {
			name = prefix + "/" + name
		}
		paths = collect(child, name, paths)
	}
	return paths
}
