package watch

import (
	"context"
	"fmt"
	"strings"
)

// newFan puts w's tree in its fanotify group (Options.Fanotify).
func (w *Watcher) newFan() error {
	var err error
	if derr := w.fan.do(func() { err = w.fan.add(w) }); derr != nil {
		return fmt.Errorf("watch %s: %w", w.root, derr)
	}
	if err != nil {
		return fmt.Errorf("watch %s: %w", w.root, err)
	}
	return nil
}

// runFan is Run for a tree watched through fanotify.
func (w *Watcher) runFan(ctx context.Context, out chan<- Change) error {
	defer func() { _ = w.fan.do(func() { w.fan.leave(w) }) }()
	if err := w.fan.do(func() { w.start(out) }); err != nil {
		if ctx.Err() != nil {
			return nil // the daemon stops
		}
		return fmt.Errorf("watch %s: %w", w.root, err)
	}
	select {
	case <-ctx.Done():
		// Already read events of the tree are handed on first.
		_ = w.fan.do(func() {
			w.fan.drain()
			w.fan.leave(w)
			w.out = nil
		})
		return nil
	case <-w.fan.done:
		if w.fan.err == nil {
			return nil // the daemon stops
		}
		return fmt.Errorf("watch %s: %w", w.root, w.fan.err)
	}
}

// handleFan turns one fanotify event of rel, a path in w's tree that no
// excluded directory holds, into changes appended to buf; from is the old
// name of a rename within the tree ("" if none). Run on the Fanotify's loop.
func (w *Watcher) handleFan(rel string, op Op, isDir bool, from string, buf []Change) []Change {
	if w.rootLost.Load() {
		return buf
	}
	w.events.Add(1)
	if e := w.log.Debug(); e.Enabled() {
		e.Str("path", w.opts.Root).Str("rel", rel).Str("op", op.String()).Bool("dir", isDir).Msg("event")
	}
	if rel == "" {
		if op&(Remove|Rename) != 0 {
			w.log.Error().Str("path", w.opts.Root).Str("op", op.String()).Msg("watched directory disappeared")
			w.rootLost.Store(true)
			return append(buf, Change{Rel: "", Op: op & (Remove | Rename), IsDir: true})
		}
		if op&w.opts.Trigger != 0 {
			buf = append(buf, Change{Rel: "", Op: op, IsDir: true})
		}
		return buf
	}
	if w.excluded(rel, isDir) {
		return buf
	}
	if from != "" && w.excluded(from, isDir) {
		from = "" // the target does not have it
	}
	if isDir && op&recursiveOps != 0 {
		return append(buf, Change{Rel: rel, Op: op, IsDir: true, From: from})
	}
	return append(buf, Change{Rel: rel, Op: op, IsDir: isDir, Quiet: op&w.opts.Trigger == 0, From: from})
}

// fanRel returns the path of p, at or below the tree's resolved root,
// relative to it.
func (w *Watcher) fanRel(p string) string { return relBelow(w.fanRoot, p) }

// dirExcluded reports whether directory rel, or one above it in the tree,
// is excluded: with fanotify every directory reports, and an excluded one
// must stay as silent as an unwatched one is with inotify.
func (w *Watcher) dirExcluded(rel string) bool {
	if w.opts.Exclude == nil {
		return false
	}
	for i := 0; rel != ""; {
		j := strings.IndexByte(rel[i:], '/')
		if j < 0 {
			return w.opts.Exclude(rel, true)
		}
		if w.opts.Exclude(rel[:i+j], true) {
			return true
		}
		i += j + 1
	}
	return false
}
