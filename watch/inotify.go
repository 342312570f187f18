package watch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// inotify is one inotify instance (an fsnotify watcher) and the loop that
// reads it, handing each event to the Watcher of the tree it is in. A
// Watcher has one of its own, or shares one with other trees (Shared):
// the kernel's per-user instance limit (fs.inotify.max_user_instances,
// 128 by default) then does not bound the number of trees.
//
// The loop is one goroutine, and handles the events of all its trees in
// the kernel's order: a directory moved from one tree to another is
// unwatched under its old name before it is watched under its new one,
// which matters because the kernel keeps one watch per directory and
// fsnotify one path per watch. For the same reason two trees that overlap
// never share an instance (see footprint).
type inotify struct {
	name   string // the tree's root, or what a shared one is, for errors
	log    zerolog.Logger
	pace   time.Duration
	clock  Clock
	shared bool // the loop runs in its own goroutine (Shared); else in Watcher.Run

	// fsw is replaced when the kernel queue overflows (see replace).
	fsw      atomic.Pointer[fsnotify.Watcher]
	errs     chan fsError                     // see pumpErrors
	overflow atomic.Pointer[fsnotify.Watcher] // whose overflow did not fit in errs
	holds    atomic.Int64                     // times the loop held its intake (pace)

	// ctl carries work to the loop's goroutine (see do); looping is set
	// while the loop runs; done is closed when a shared loop has ended,
	// and err then says why.
	ctl     chan func()
	looping atomic.Bool
	done    chan struct{}
	err     error

	// Owned by the loop.
	trees  map[string]*Watcher // by root
	batch  []Change
	marker marker
}

// newInotify creates the fsnotify watcher; name says what it is for in
// errors (a tree's root, for one of its own).
func newInotify(name string, log zerolog.Logger, pace time.Duration, clock Clock, shared bool) (*inotify, error) {
	if clock == nil {
		clock = SystemClock{}
	}
	in := &inotify{name: name, log: log, pace: pace, clock: clock, shared: shared, errs: make(chan fsError, 64),
		ctl: make(chan func()), done: make(chan struct{}), trees: map[string]*Watcher{}}
	fsw, err := newFsnotify(name)
	if err != nil {
		return nil, err
	}
	in.fsw.Store(fsw)
	go in.pumpErrors(fsw)
	in.marker.open(fsw, log)
	return in, nil
}

// close ends the instance: its fsnotify watcher and its marker.
func (in *inotify) close() {
	_ = in.fsw.Load().Close()
	in.marker.close()
}

// newFsnotify creates the fsnotify watcher, explaining an exhausted
// instance limit.
func newFsnotify(name string) (*fsnotify.Watcher, error) {
	fsw, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		return nil, initError(name, err, readSysctl)
	}
	return fsw, nil
}

// pumpErrors drains fsw's errors into in.errs until fsw is closed, never
// blocking fsnotify: an error that does not fit is logged here, or, for an
// overflow, remembered for the loop. fsnotify sends some errors while
// holding its lock, and Add and Remove take that lock: if the loop read
// fsnotify's unbuffered Errors itself, a Remove in the loop would wait for
// a reader that waits for the loop.
func (in *inotify) pumpErrors(fsw *fsnotify.Watcher) {
	for err := range fsw.Errors {
		select {
		case in.errs <- fsError{fsw, err}:
		default:
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				in.overflow.Store(fsw)
			} else {
				in.log.Error().Err(err).Msg("fsnotify error")
			}
		}
	}
}

// fsError is an error from fsnotify and the watcher it came from: an
// overflow of a watcher that a replacement has already closed is stale
// (the walks that followed cover what it lost), and must not start
// another.
type fsError struct {
	fsw *fsnotify.Watcher
	err error
}

// do runs f on the loop's goroutine and waits for it: through ctl while
// the loop runs or for a shared instance, and at once for a Watcher's own
// before its Run (its caller is then the owner). It fails when the shared
// loop has ended.
func (in *inotify) do(f func()) error {
	if !in.shared && !in.looping.Load() {
		f()
		return nil
	}
	ran := make(chan struct{})
	select {
	case in.ctl <- func() { f(); close(ran) }:
		<-ran
		return nil
	case <-in.done:
		if in.err != nil {
			return in.err
		}
		return errStopped
	}
}

// errStopped: the shared instance's loop ended with its context.
var errStopped = errors.New("the inotify instance has stopped")

// run is the loop: it reads fsnotify's events and errors until ctx is
// done, and then hands on what fsnotify had already read. It returns an
// error only if watching cannot go on (fsnotify stopped, or could not be
// made again after an overflow); the fsnotify watcher is closed then too.
func (in *inotify) run(ctx context.Context) error {
	in.looping.Store(true)
	defer func() {
		in.looping.Store(false)
		in.close()
	}()
	pace := pacer{pace: in.pace, clock: in.clock, holds: &in.holds}
	for {
		fsw := in.fsw.Load()
		stream := false
		select {
		case <-ctx.Done():
			in.drain()
			return nil
		case ev, ok := <-fsw.Events:
			if !ok {
				return errors.New("fsnotify stopped")
			}
			in.dispatch(ev)
			stream = pace.seen()
		case e := <-in.errs:
			if errors.Is(e.err, fsnotify.ErrEventOverflow) && e.fsw != fsw {
				break // stale: see fsError
			}
			if err := in.handleError(e.err); err != nil {
				return err
			}
		case f := <-in.ctl:
			f()
		}
		if in.overflow.Swap(nil) == in.fsw.Load() {
			if err := in.handleError(fsnotify.ErrEventOverflow); err != nil {
				return err
			}
		}
		// In a stream, once fsnotify has handed over all it read, wait
		// before taking the next events (see Options.Pace).
		if stream && len(fsw.Events) == 0 && ctx.Err() == nil {
			pace.hold()
		}
	}
}

// drain hands on the events fsnotify has already read from the kernel:
// when stopping, and before a tree leaves a shared instance, so that a
// change seen before is not dropped.
func (in *inotify) drain() {
	fsw := in.fsw.Load()
	for {
		select {
		case ev, ok := <-fsw.Events:
			if !ok {
				return
			}
			in.dispatch(ev)
		default:
			return
		}
	}
}

// dispatch hands one event to the Watcher of the tree it is in, which
// keeps its watches in step at once, also before its Run has started.
func (in *inotify) dispatch(ev fsnotify.Event) {
	if ev.Name == in.marker.path {
		if in.marker.due { // every move queued before the walks is handled
			in.rewatchWalked()
		}
		in.marker.seen()
		return
	}
	w := in.route(ev.Name)
	if w == nil {
		in.log.Debug().Str("name", ev.Name).Str("op", ev.Op.String()).Msg("event outside every tree ignored")
		return
	}
	in.batch = w.handle(ev, in.batch[:0])
	w.send(in.batch)
}

// route returns the Watcher whose root is name or one of its parents.
// Roots that share an instance never nest (see footprint), so there is at
// most one.
func (in *inotify) route(name string) *Watcher {
	if len(in.trees) == 1 {
		for _, w := range in.trees {
			if _, ok := w.relOf(name); ok {
				return w
			}
			return nil
		}
	}
	for p := name; ; {
		if w := in.trees[p]; w != nil {
			return w
		}
		i := strings.LastIndexByte(p, '/')
		switch {
		case i < 0 || p == "/":
			return nil
		case i == 0:
			p = "/"
		default:
			p = p[:i]
		}
	}
}

// handleError deals with an error from fsnotify. Only a failure to start
// watching again after an overflow is returned.
func (in *inotify) handleError(err error) error {
	if !errors.Is(err, fsnotify.ErrEventOverflow) {
		in.log.Error().Err(err).Msg("fsnotify error")
		return nil
	}
	for _, w := range in.trees {
		w.overflows.Add(1)
		w.log.Warn().Str("path", w.opts.Root).Msg("inotify queue overflowed; resyncing the whole tree")
	}
	return in.replace()
}

// replace rebuilds every watch after an overflow, of every tree, since
// the kernel's queue is the instance's. Events were lost, renames among
// them, so any watch may report a stale path, and adding a watch for a
// moved directory's new name gives back its old watch under the old name.
// So the fsnotify watcher is replaced: closing it drops every watch and
// what is still queued (all covered by the full syncs that follow), and
// the new one is filled by fresh walks.
func (in *inotify) replace() error {
	_ = in.fsw.Load().Close() // first: the watch limit is per user, not per instance
	fsw, err := newFsnotify(in.name)
	if err != nil {
		return fmt.Errorf("cannot watch again after the overflow: %w", err)
	}
	in.fsw.Store(fsw)
	go in.pumpErrors(fsw)
	in.marker.reset(fsw)
	for _, w := range in.trees {
		if err := w.rewatch(); err != nil {
			if !in.shared {
				return err
			}
			w.fail(fmt.Errorf("watch %s: %w", w.root, err)) // the others go on
		}
	}
	return nil
}

// rewatchWalked walks again the directories walked since the marker was
// last answered, adding their watches again (a watch that a tree removed
// for a directory it saw moved away may have been the one a walk was
// handed, see marker) and those of directories made meanwhile, which no
// event may have told; and it reports each walked directory whole.
func (in *inotify) rewatchWalked() {
	in.marker.due = false
	fsw := in.fsw.Load()
	// The walks are remembered again, as new ones (marker.walk).
	for i, n := 0, len(in.marker.walks); i < n; i++ {
		wk := in.marker.walks[i]
		w := wk.w
		if in.trees[w.root] != w || !w.dirs.has(wk.rel) {
			continue
		}
		if err := w.watchTree(fsw, wk.rel, w.logAddError); err != nil {
			continue // at the watch limit, logged
		}
		w.send([]Change{{Rel: wk.rel, Op: Create, IsDir: true}})
	}
}
