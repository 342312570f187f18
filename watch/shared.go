package watch

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Shared puts the Watchers of many trees in a few inotify instances, so
// that the number of trees is not bounded by the kernel's per-user
// instance limit (fs.inotify.max_user_instances, 128 by default). A tree
// goes to the first instance that holds no tree it overlaps (see
// footprint), and a new instance is made when none fits: trees that do
// not nest share one. Each instance's events are read by a goroutine of
// its own, which ends with the last tree in it, or with the context.
type Shared struct {
	ctx   context.Context
	log   zerolog.Logger
	pace  time.Duration
	clock Clock

	mu    sync.Mutex
	insts []*sharedInotify
}

// sharedInotify is one instance of a Shared and the trees in it.
type sharedInotify struct {
	in    *inotify
	stop  context.CancelFunc
	trees []placed
}

// placed is a tree in an instance.
type placed struct {
	w  *Watcher
	fp footprint
}

// SharedOptions configures a Shared.
type SharedOptions struct {
	// Logger receives what concerns an instance rather than a tree.
	Logger zerolog.Logger
	// Pace and Clock are Options.Pace and Options.Clock for every tree.
	Pace  time.Duration
	Clock Clock
}

// NewShared returns a Shared whose instances end with ctx.
func NewShared(ctx context.Context, opts SharedOptions) *Shared {
	return &Shared{ctx: ctx, log: opts.Logger, pace: opts.Pace, clock: opts.Clock}
}

// Instances returns how many inotify instances the trees use now.
func (s *Shared) Instances() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.insts)
}

// place picks w's instance, making one when w overlaps a tree in each.
func (s *Shared) place(w *Watcher) (*inotify, error) {
	fp := treeFootprint(w.root, readMounts())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, si := range s.insts {
		select {
		case <-si.in.done:
			continue // ended with the context: it only waits for its trees to go
		default:
		}
		if fits(fp, si.trees) {
			si.trees = append(si.trees, placed{w, fp})
			return si.in, nil
		}
	}
	in, err := newInotify(w.root, s.log, s.pace, s.clock, true)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(s.ctx)
	go func() {
		in.err = in.run(ctx)
		close(in.done)
	}()
	s.insts = append(s.insts, &sharedInotify{in: in, stop: stop, trees: []placed{{w, fp}}})
	return in, nil
}

// fits reports whether a tree of footprint fp may join trees.
func fits(fp footprint, trees []placed) bool {
	for _, other := range trees {
		if fp.overlaps(other.fp) {
			return false
		}
	}
	return true
}

// release takes w out of its instance, ending the instance with its last
// tree.
func (s *Shared) release(w *Watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, si := range s.insts {
		j := slices.IndexFunc(si.trees, func(p placed) bool { return p.w == w })
		if j < 0 {
			continue
		}
		si.trees = slices.Delete(si.trees, j, j+1)
		if len(si.trees) == 0 {
			si.stop()
			s.insts = slices.Delete(s.insts, i, i+1)
		}
		return
	}
}

// InstancesFor returns how many inotify instances trees at roots would
// take in a Shared: 1 when none of them overlap.
func InstancesFor(roots []string) int {
	mounts := readMounts()
	var insts [][]placed
next:
	for _, r := range roots {
		if abs, err := filepath.Abs(r); err == nil {
			r = abs
		}
		fp := treeFootprint(r, mounts)
		for i, trees := range insts {
			if fits(fp, trees) {
				insts[i] = append(trees, placed{fp: fp})
				continue next
			}
		}
		insts = append(insts, []placed{{fp: fp}})
	}
	return len(insts)
}
