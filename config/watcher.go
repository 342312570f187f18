package config

import (
	"fmt"
	"slices"

	"go.starlark.net/starlark"
)

// The values of watcher.
const (
	WatcherInotify  = "inotify"  // a watch per directory (the default)
	WatcherFanotify = "fanotify" // a mark per filesystem: root, Linux 5.17
	WatcherAuto     = "auto"     // fanotify where it can be used, else inotify
)

var watcherNames = []string{WatcherAuto, WatcherInotify, WatcherFanotify}

// watcher reads the watcher setting: how the trees are watched.
func (b *builder) watcher(g starlark.StringDict) (string, error) {
	v, ok := g["watcher"]
	if !ok || v == starlark.None {
		return WatcherInotify, nil
	}
	s, isStr := v.(starlark.String)
	if isStr && slices.Contains(watcherNames, string(s)) {
		return string(s), nil
	}
	msg := fmt.Sprintf(`watcher must be "inotify" (a watch per directory), "fanotify" (one mark per filesystem; needs root and Linux 5.17) or "auto" (fanotify where it can be used, inotify elsewhere), got %s`, describe(v))
	if isStr {
		if n := nearest(string(s), watcherNames, 3); n != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return "", b.errAt(b.src.settingPos("watcher"), "%s", msg)
}
