package main

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync/filter"
	"github.com/inosync/inosync/watch"
)

// watchNeeds is what the config's trees take from the inotify limits
// when the daemon watches them (see watch.Needs): the instances the trees
// share, and each tree's (a source and a target) directories counted as
// its watcher would watch them.
func watchNeeds(cfg *config.Config) (watch.Needs, error) {
	n := watch.Needs{Instances: 1} // the root watch
	seen := map[string]bool{}
	var sources []string
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
		sources = append(sources, s.Source)
		n.Watches += dirs
	}
	n.Instances += watch.InstancesFor(sources)
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
