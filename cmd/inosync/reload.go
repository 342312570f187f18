package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
)

// reload reads the config file again and applies it by tree. A config
// that does not load, or a new tree that cannot be watched, changes
// nothing: the running config stays and the error says why. Otherwise:
// unchanged trees keep their watches and pending changes; new ones are
// watched and get their initial sync; removed ones stop (the dispatcher
// logs what they had pending as dropped); a tree whose watching changed
// gets a new pipeline, started before the old one stops so that no event
// falls between them; and every (tree, node) takes the new rsync settings
// from its next run. It returns what it did, in words.
func (s *supervisor) reload() (string, error) {
	if s.stopping {
		return "", errors.New("inosync is stopping: it syncs what is pending, then exits")
	}
	cfg, err := s.load()
	if err != nil {
		return "", fmt.Errorf("reloading %s: %w", s.cfg.File, err)
	}
	for _, w := range cfg.Warnings {
		s.lg.Warn().Err(w).Msg("config warning")
	}
	type change struct {
		old, cur *treeRun
		full     bool
	}
	var (
		added    []*treeRun
		replaced []change
		caughtUp []*treeRun // kept trees whose new init or delete asks for a full sync
		kept     = map[string]*treeRun{}
		order    []string
		fresh    []*treeRun // every tree made by this reload, closed if it fails
	)
	fail := func(err error) (string, error) {
		for _, t := range fresh {
			t.watcher.Close()
		}
		return "", err
	}
	for _, sy := range cfg.Syncs {
		key := treeKey(sy)
		if _, dup := kept[key]; dup {
			continue
		}
		old, ok := s.trees[key]
		switch {
		case !ok:
			t, err := s.newTree(cfg, sy)
			if err != nil {
				return fail(fmt.Errorf("reloading %s: new tree %s: %w", s.cfg.File, sy.Source, err))
			}
			fresh = append(fresh, t)
			added = append(added, t)
			kept[key] = t
		default:
			replace, full := watchChanged(s.cfg, cfg, old.sync, sy)
			if catchUp(old.sync, sy) {
				caughtUp = append(caughtUp, old)
			}
			if !replace {
				// A copy with the new settings (its nodes and rsync
				// options may be new): a reload that fails later leaves
				// the running tree as it was.
				t := *old
				t.sync = sy
				t.nextResync = keptResync(old, sy)
				kept[key] = &t
				break
			}
			t, err := newTree(old.id, cfg, sy, s.watchers, s.reporter, s.changed, s.lg)
			if err != nil {
				return fail(fmt.Errorf("reloading %s: tree %s: %w", s.cfg.File, sy.Source, err))
			}
			fresh = append(fresh, t)
			t.nextResync = keptResync(old, sy)
			replaced = append(replaced, change{old, t, full})
			kept[key] = t
		}
		order = append(order, key)
	}
	var removed []*treeRun
	for _, k := range s.order {
		if _, ok := kept[k]; !ok {
			removed = append(removed, s.trees[k])
		}
	}
	// The dispatcher first: a new tree's changes must find its jobs.
	var jobs []rsync.Job
	var full []int
	var fullNames []string
	for _, k := range order {
		jobs = append(jobs, kept[k].jobs(cfg)...)
	}
	for _, c := range replaced {
		if c.full {
			full = append(full, c.cur.id)
			fullNames = append(fullNames, c.cur.sync.Source)
		}
	}
	var initial []int
	for _, t := range caughtUp {
		if sy := kept[treeKey(t.sync)].sync; !t.sync.Init && sy.Init {
			initial = append(initial, t.id) // as at a start: its deletion too
		}
		if !slices.Contains(full, t.id) {
			full = append(full, t.id)
			fullNames = append(fullNames, t.sync.Source)
		}
	}
	if s.pipes.ctx.Err() != nil {
		return fail(errors.New("inosync is stopping"))
	}
	reply := make(chan struct{})
	if !s.ask(rsync.Reconfigure{Jobs: jobs, MaxProcs: cfg.MaxProcesses, MaxPending: cfg.MaxPending, Full: full, Initial: initial, Reply: reply}) {
		return fail(errors.New("inosync is stopping"))
	}
	<-reply
	for _, t := range added {
		s.pipes.start(t, cfg)
	}
	for _, c := range replaced {
		s.pipes.start(c.cur, cfg)
		c.old.stop() // its coalescer hands on what it held before it ends
	}
	for _, t := range removed {
		t.stop()
		s.lg.Info().Str("path", t.sync.Source).Msg("tree removed by the reload; no longer watched")
	}
	s.warnRestartOnly(cfg)
	s.cfg, s.trees, s.order = cfg, kept, order
	for _, k := range order {
		t := kept[k]
		if t.sync.Resync <= 0 {
			t.nextResync = time.Time{}
		} else if t.nextResync.IsZero() {
			t.nextResync = time.Now().Add(t.sync.Resync)
		}
	}
	s.status.configure(cfg)
	whole := "no tree synced whole"
	if len(fullNames) > 0 {
		whole = "synced whole for their new excludes, init or delete: " + strings.Join(fullNames, ", ")
	}
	return fmt.Sprintf("reloaded %s: %d trees, %d added, %d removed, %d rewatched (%s)",
		cfg.File, len(order), len(added), len(removed), len(replaced), whole), nil
}

// catchUp reports whether a kept tree's new settings ask for one full
// sync: init turned on (the target may differ from the source, which
// init = True promises it does not), or delete turned to True (what the
// source no longer has may still be on the target).
func catchUp(a, b config.Sync) bool {
	return !a.Init && b.Init || a.Delete != config.DeleteAll && b.Delete == config.DeleteAll
}

// warnRestartOnly logs the settings that a reload cannot change: where
// the daemon listens.
func (s *supervisor) warnRestartOnly(cfg *config.Config) {
	if cfg.ControlSocket != s.cfg.ControlSocket {
		s.lg.Warn().Str("control_socket", cfg.ControlSocket).Msg("control_socket changed: it takes effect when inosync is restarted")
	}
	if cfg.Watcher != s.cfg.Watcher {
		s.lg.Warn().Str("watcher", cfg.Watcher).Msg("watcher changed: it takes effect when inosync is restarted")
	}
	if cfg.MetricsListen != s.cfg.MetricsListen {
		s.lg.Warn().Str("metrics_listen", cfg.MetricsListen).Msg("metrics_listen changed: it takes effect when inosync is restarted")
	}
	if cfg.StatusFile != "" && s.changed == nil {
		s.lg.Warn().Str("status_file", cfg.StatusFile).Msg("status_file set where none was: it takes effect when inosync is restarted")
	}
	if cfg.WarmRsync != s.cfg.WarmRsync {
		s.lg.Warn().Bool("warm_rsync", cfg.WarmRsync).Msg("warm_rsync changed: it takes effect when inosync is restarted")
	}
}

// keptResync is when a tree that a reload keeps has its next drift-repair
// sync: as planned while its resync_interval stays, else zero (the reload
// plans it anew from now).
func keptResync(old *treeRun, sy config.Sync) time.Time {
	if sy.Resync != old.sync.Resync {
		return time.Time{}
	}
	return old.nextResync
}
