package main

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync/filter"
	"github.com/inosync/inosync/watch"
)

// watchNeeds is what the config's trees take from the inotify limits
// when the daemon watches them (see watch.Needs): two instances (the one
// the trees share, and the root watch's), and a watch per directory of
// each tree (a source and a target) once, counted as its watcher would
// watch them. Trees that nest are counted in full, though a directory that
// two of them watch takes one watch.
func watchNeeds(cfg *config.Config) (watch.Needs, error) {
	n := watch.Needs{Instances: 2}
	seen := map[string]bool{}
	reporter := &hookReporter{lg: zerolog.Nop(), seen: map[string]bool{}}
	for _, s := range cfg.Syncs {
		if seen[treeKey(s)] {
			continue
		}
		seen[treeKey(s)] = true
		m, err := filter.Compile(s.Excludes)
		if err != nil {
			return n, fmt.Errorf("excludes of %s: %w", s.Source, err)
		}
		exclude, _, _ := treeFilters(s, m, reporter)
		dirs, err := watch.CountDirs(s.Source, exclude)
		if err != nil {
			return n, err
		}
		n.Watches += dirs
	}
	return n, nil
}

// checkWatchLimits is --check's test of the inotify limits: an error when
// the daemon's start would fail on them.
func checkWatchLimits(cfg *config.Config) error {
	n, err := watchNeeds(cfg)
	if err != nil {
		return err
	}
	return watch.CheckLimits(n)
}
