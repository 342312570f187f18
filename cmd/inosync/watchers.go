package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/watch"
)

// watchers is how the daemon watches its trees (the watcher setting, as
// it was at start): the inotify instances the trees share, and fanotify
// (a group per filesystem) when watcher is "fanotify" or "auto" and this
// process may use it.
type watchers struct {
	mode     string
	inotify  *watch.Shared
	fanotify *watch.Fanotify // nil: inotify for every tree
}

// newWatchers sets up the watchers for mode. With "fanotify", fanotify
// that cannot be used here stops the start; with "auto", inotify is used
// and the log says why.
func newWatchers(ctx context.Context, mode string, pace time.Duration, lg zerolog.Logger) (*watchers, error) {
	ws := &watchers{mode: mode, inotify: watch.NewShared(ctx, watch.SharedOptions{Logger: lg, Pace: pace})}
	if mode == config.WatcherInotify {
		return ws, nil
	}
	f, err := watch.NewFanotify(ctx, watch.FanotifyOptions{Logger: lg})
	switch {
	case err == nil:
		ws.fanotify = f
	case mode == config.WatcherFanotify:
		return nil, fmt.Errorf("watcher = \"fanotify\": %w; set watcher = \"inotify\" or \"auto\"", err)
	default:
		lg.Info().Str("watcher", config.WatcherInotify).Str("why", err.Error()).Msg("watcher = \"auto\": watching with inotify")
	}
	return ws, nil
}

// watch makes the Watcher of one tree: through fanotify when it can be
// used and the tree's filesystem takes a mark, else through inotify
// (with "auto"; with "fanotify" the tree fails). It returns which.
func (ws *watchers) watch(opts watch.Options, lg zerolog.Logger) (*watch.Watcher, string, error) {
	if ws.fanotify != nil {
		opts.Fanotify = ws.fanotify
		w, err := watch.New(opts)
		if err == nil {
			return w, config.WatcherFanotify, nil
		}
		if ws.mode == config.WatcherFanotify {
			return nil, "", err
		}
		lg.Info().Str("path", opts.Root).Str("watcher", config.WatcherInotify).Str("why", err.Error()).
			Msg("watcher = \"auto\": this tree is watched with inotify")
		opts.Fanotify = nil
	}
	opts.Shared = ws.inotify
	w, err := watch.New(opts)
	return w, config.WatcherInotify, err
}
