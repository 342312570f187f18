package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// RootWatch reports what may make a tree's path lead to another
// directory than the one watched: a change of the mount table, an entry
// created, removed or renamed in the directory that holds a root (the
// root removed and made again, another directory renamed into its place,
// a symlink re-pointed), and, every interval, nothing in particular: the
// kernel signals mounts on /proc/self/mountinfo but not every unmount
// (none on Linux 6.18 here, lazy or not), and a symlink further up the
// path has no watch. C gets a value (one pending value stands for any
// number) and the owner then checks each root (Root.Check), a stat per
// tree. Watch is for one goroutine; C may be read by another.
type RootWatch struct {
	C       <-chan struct{}
	fsw     *fsnotify.Watcher
	parents map[string]bool
}

// NewRootWatch starts ticking every interval, watching the mount table
// and the roots' parent directories (Watch says which); it ends when ctx
// does. When the mount table or the parents cannot be watched, the
// RootWatch still ticks, and err says what is missing.
func NewRootWatch(ctx context.Context, interval time.Duration) (_ *RootWatch, err error) {
	mounts, merr := MountChanges(ctx)
	fsw, ferr := fsnotify.NewWatcher()
	if ferr != nil {
		ferr = fmt.Errorf("watching the trees' parent directories: %w", ferr)
	}
	c := make(chan struct{}, 1)
	send := func() {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if fsw != nil {
		events, errs = fsw.Events, fsw.Errors
	}
	go func() {
		if fsw != nil {
			defer fsw.Close()
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				send()
			case <-mounts:
				send()
			case ev, ok := <-events:
				if !ok {
					events = nil
					continue
				}
				if !ev.Has(fsnotify.Write) {
					send()
				}
			case _, ok := <-errs:
				if !ok {
					errs = nil
					continue
				}
				send() // a lost event may have been one of ours
			}
		}
	}()
	return &RootWatch{C: c, fsw: fsw, parents: map[string]bool{}}, errors.Join(merr, ferr)
}

// Watch makes the watched parent directories those of roots: the
// directory each root's path names it in. A parent that cannot be watched
// is skipped (the mount table still is).
func (w *RootWatch) Watch(roots []string) {
	if w.fsw == nil {
		return
	}
	want := map[string]bool{}
	for _, r := range roots {
		want[filepath.Dir(filepath.Clean(r))] = true
	}
	for p := range w.parents {
		if !want[p] {
			_ = w.fsw.Remove(p)
			delete(w.parents, p)
		}
	}
	for p := range want {
		if !w.parents[p] && w.fsw.Add(p) == nil {
			w.parents[p] = true
		}
	}
}
