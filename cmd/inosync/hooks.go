package main

import (
	"sync"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync/filter"
	"github.com/inosync/inosync/rsync/operand"
	"github.com/inosync/inosync/watch"
)

// hookReporter logs a failing hook once per cause (the same error text),
// however many paths it fails on. It is shared by the watchers.
type hookReporter struct {
	lg   zerolog.Logger
	mu   sync.Mutex
	seen map[string]bool
}

func (r *hookReporter) report(err error, path, rel string) {
	r.mu.Lock()
	first := !r.seen[err.Error()]
	r.seen[err.Error()] = true
	r.mu.Unlock()
	if first {
		r.lg.Warn().Err(err).Str("path", path).Str("rel", rel).
			Msg("config hook failed; treating the path as not excluded (logged once per cause)")
	}
}

// treeFilters returns the watcher's exclude and filter functions for one
// tree: rsync's exclude patterns first (cheap, and the same rsync applies,
// anchored where rsync anchors them), then the config's exclude hooks,
// then its event filters; and the hooks alone (nil without any), for the
// dispatcher's full runs. A failing hook
// counts as "not excluded" / "keep": when in doubt, sync.
func treeFilters(s config.Sync, m *filter.Matcher, r *hookReporter) (exclude, hooks func(string, bool) bool, keep func(watch.Change) bool) {
	runHooks := func(rel string, isDir bool) bool {
		for _, h := range s.ExcludeHooks {
			out, err := h(rel, isDir)
			if err != nil {
				r.report(err, s.Source, rel)
				continue
			}
			if out {
				return true
			}
		}
		return false
	}
	// rsync matches the patterns against the paths below its transfer
	// root, which for a source without a trailing slash is its parent.
	_, prefix := operand.Root(s.Source)
	exclude = func(rel string, isDir bool) bool {
		return rel != "" && m.Excluded(prefix+rel, isDir) || runHooks(rel, isDir)
	}
	if len(s.ExcludeHooks) > 0 {
		hooks = runHooks
	}
	if len(s.FilterHooks) == 0 {
		return exclude, hooks, nil
	}
	keep = func(c watch.Change) bool {
		ev := config.Event{Path: c.Rel, Source: s.Source, Name: inotifyName(c.Op), IsDir: c.IsDir}
		for _, h := range s.FilterHooks {
			ok, err := h(ev)
			if err != nil {
				r.report(err, s.Source, c.Rel)
				continue
			}
			if !ok {
				return false
			}
		}
		return true
	}
	return exclude, hooks, keep
}

// inotifyName names a change's op as the hooks see it (event.name).
func inotifyName(op watch.Op) string {
	switch {
	case op&watch.Create != 0:
		return "IN_CREATE"
	case op&watch.CloseWrite != 0:
		return "IN_CLOSE_WRITE"
	case op&watch.Write != 0:
		return "IN_MODIFY"
	case op&watch.Remove != 0:
		return "IN_DELETE"
	case op&watch.Rename != 0:
		return "IN_MOVED_FROM"
	case op&watch.Chmod != 0:
		return "IN_ATTRIB"
	}
	return ""
}
