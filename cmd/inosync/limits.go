package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync/filter"
	"github.com/inosync/inosync/watch"
)

// watchNeeds is what the config's trees take from the inotify limits
// when the daemon watches them (see watch.Needs): the instances the trees
// share, and each tree's (a source and a target) directories counted as
// its watcher would watch them. The sources in fan are watched through
// fanotify and take nothing.
func watchNeeds(cfg *config.Config, fan map[string]bool) (watch.Needs, error) {
	n := watch.Needs{Instances: 1} // the root watch
	seen := map[string]bool{}
	var sources []string
	reporter := &hookReporter{lg: zerolog.Nop(), seen: map[string]bool{}}
	for _, s := range cfg.Syncs {
		if seen[treeKey(s)] {
			continue
		}
		seen[treeKey(s)] = true
		if fan[s.Source] {
			continue
		}
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

// checkWatchLimits is --check's test of the watchers: an error when the
// daemon's start would fail on the inotify limits, or, with watcher =
// "fanotify", on fanotify.
func checkWatchLimits(cfg *config.Config) error {
	fan, err := fanotifySources(cfg)
	if err != nil {
		return err
	}
	n, err := watchNeeds(cfg, fan)
	if err != nil {
		return err
	}
	return watch.CheckLimits(n)
}

// fanotifySources returns the sources that the daemon would watch through
// fanotify (watcher "fanotify" or "auto"), by marking their filesystems in
// a group made for the check. With "fanotify", a group that cannot be
// made or a tree it cannot watch is an error, as at start.
func fanotifySources(cfg *config.Config) (map[string]bool, error) {
	if cfg.Watcher == config.WatcherInotify {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws, err := newWatchers(ctx, cfg.Watcher, 0, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	fan := map[string]bool{}
	if ws.fanotify == nil {
		return fan, nil
	}
	for _, s := range cfg.Syncs {
		w, err := watch.New(watch.Options{Root: s.Source, Fanotify: ws.fanotify})
		if err == nil {
			fan[s.Source] = true
			w.Close()
		} else if cfg.Watcher == config.WatcherFanotify {
			return nil, err
		}
	}
	return fan, nil
}
