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
	p, err := s.planReload(cfg)
	if err != nil {
		return "", err
	}
	// The dispatcher first: a new tree's changes must find its jobs.
	jobs, full, initial, fullNames := p.dispatch()
	if s.pipes.ctx.Err() != nil {
		p.abandon()
		return "", errors.New("inosync is stopping")
	}
	reply := make(chan struct{})
	if !s.ask(rsync.Reconfigure{Jobs: jobs, MaxProcs: cfg.MaxProcesses, MaxPending: cfg.MaxPending, Full: full, Initial: initial, Reply: reply}) {
		p.abandon()
		return "", errors.New("inosync is stopping")
	}
	<-reply
	s.applyReload(p)
	whole := "no tree synced whole"
	if len(fullNames) > 0 {
		whole = "synced whole for their new excludes, init or delete: " + strings.Join(fullNames, ", ")
	}
	trees := "trees"
	if len(p.order) == 1 {
		trees = "tree"
	}
	return fmt.Sprintf("reloaded %s: %d %s, %d added, %d removed, %d rewatched (%s)",
		cfg.File, len(p.order), trees, len(p.added), len(p.removed), len(p.replaced), whole), nil
}

// reloadPlan is what a reload does to the trees, worked out before
// anything running is touched.
type reloadPlan struct {
	cfg      *config.Config
	added    []*treeRun
	replaced []treeChange
	caughtUp []*treeRun // kept trees whose new init or delete asks for a full sync
	removed  []*treeRun
	kept     map[string]*treeRun
	order    []string
	fresh    []*treeRun // every tree made by this reload, closed if it fails
}

// treeChange is a tree whose watching changed: cur replaces old, and full
// says whether the new one needs a full sync.
type treeChange struct {
	old, cur *treeRun
	full     bool
}

// planReload sorts cfg's trees into added, kept and replaced ones, making
// the watchers of the new ones, and finds the removed ones. When a tree
// cannot be watched, the watchers made so far are closed and nothing
// running has changed.
func (s *supervisor) planReload(cfg *config.Config) (*reloadPlan, error) {
	p := &reloadPlan{cfg: cfg, kept: map[string]*treeRun{}}
	for _, sy := range cfg.Syncs {
		key := treeKey(sy)
		if _, dup := p.kept[key]; dup {
			continue
		}
		old, ok := s.trees[key]
		switch {
		case !ok:
			t, err := s.newTree(cfg, sy)
			if err != nil {
				p.abandon()
				return nil, fmt.Errorf("reloading %s: new tree %s: %w", s.cfg.File, sy.Source, err)
			}
			p.fresh = append(p.fresh, t)
			p.added = append(p.added, t)
			p.kept[key] = t
		default:
			replace, full := watchChanged(s.cfg, cfg, old.sync, sy)
			if catchUp(old.sync, sy) {
				p.caughtUp = append(p.caughtUp, old)
			}
			if !replace {
				// A copy with the new settings (its nodes and rsync
				// options may be new): a reload that fails later leaves
				// the running tree as it was.
				t := *old
				t.sync = sy
				t.nextResync = keptResync(old, sy)
				p.kept[key] = &t
				break
			}
			t, err := newTree(old.id, cfg, sy, s.watchers, s.reporter, s.changed, s.lg)
			if err != nil {
				p.abandon()
				return nil, fmt.Errorf("reloading %s: tree %s: %w", s.cfg.File, sy.Source, err)
			}
			p.fresh = append(p.fresh, t)
			t.nextResync = keptResync(old, sy)
			p.replaced = append(p.replaced, treeChange{old, t, full})
			p.kept[key] = t
		}
		p.order = append(p.order, key)
	}
	for _, k := range s.order {
		if _, ok := p.kept[k]; !ok {
			p.removed = append(p.removed, s.trees[k])
		}
	}
	return p, nil
}

// abandon closes the watchers the plan made.
func (p *reloadPlan) abandon() {
	for _, t := range p.fresh {
		t.watcher.Close()
	}
}

// dispatch returns what the dispatcher is told: the jobs of every tree,
// the trees to sync whole (by id, and by source for the reply), and those
// whose sync is an initial one (their new init asks for its deletion too).
func (p *reloadPlan) dispatch() (jobs []rsync.Job, full, initial []int, fullNames []string) {
	for _, k := range p.order {
		jobs = append(jobs, p.kept[k].jobs(p.cfg)...)
	}
	for _, c := range p.replaced {
		if c.full {
			full = append(full, c.cur.id)
			fullNames = append(fullNames, c.cur.sync.Source)
		}
	}
	for _, t := range p.caughtUp {
		if sy := p.kept[treeKey(t.sync)].sync; !t.sync.Init && sy.Init {
			initial = append(initial, t.id) // as at a start: its deletion too
		}
		if !slices.Contains(full, t.id) {
			full = append(full, t.id)
			fullNames = append(fullNames, t.sync.Source)
		}
	}
	return jobs, full, initial, fullNames
}

// applyReload starts the pipelines of new trees (a replaced tree's before
// its old one stops, so that no event falls between them), stops removed
// trees, and makes the plan the running config.
func (s *supervisor) applyReload(p *reloadPlan) {
	for _, t := range p.added {
		s.pipes.start(t, p.cfg)
	}
	for _, c := range p.replaced {
		s.pipes.start(c.cur, p.cfg)
		c.old.stop() // its coalescer hands on what it held before it ends
	}
	for _, t := range p.removed {
		t.stop()
		s.lg.Info().Str("path", t.sync.Source).Msg("tree removed by the reload; no longer watched")
	}
	s.warnRestartOnly(p.cfg)
	s.cfg, s.trees, s.order = p.cfg, p.kept, p.order
	for _, k := range p.order {
		t := p.kept[k]
		if t.sync.Resync <= 0 {
			t.nextResync = time.Time{}
		} else if t.nextResync.IsZero() {
			t.nextResync = time.Now().Add(t.sync.Resync)
		}
	}
	s.status.configure(p.cfg)
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
	if cfg.ControlSocket != s.startCfg.ControlSocket {
		s.lg.Warn().Str("control_socket", cfg.ControlSocket).Msg("control_socket changed: it takes effect when inosync is restarted")
	}
	if cfg.Watcher != s.startCfg.Watcher {
		s.lg.Warn().Str("watcher", cfg.Watcher).Msg("watcher changed: it takes effect when inosync is restarted")
	}
	if cfg.MetricsListen != s.startCfg.MetricsListen {
		s.lg.Warn().Str("metrics_listen", cfg.MetricsListen).Msg("metrics_listen changed: it takes effect when inosync is restarted")
	}
	if cfg.StatusFile != "" && s.startCfg.StatusFile == "" {
		s.lg.Warn().Str("status_file", cfg.StatusFile).Msg("status_file set where none was: it takes effect when inosync is restarted")
	}
	if cfg.WarmRsync != s.startCfg.WarmRsync {
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
