package config

import (
	"strings"
	"testing"
)

// watcher: inotify by default, the three names accepted, anything else
// refused with its position, what each means and the nearest name.
func TestWatcherSetting(t *testing.T) {
	const tree = "sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n"
	for _, c := range []struct{ src, want string }{
		{tree, WatcherInotify},
		{"watcher = \"auto\"\n" + tree, WatcherAuto},
		{"watcher = \"fanotify\"\n" + tree, WatcherFanotify},
		{"watcher = \"inotify\"\n" + tree, WatcherInotify},
	} {
		cfg, _, err := loadSrc(t, c.src)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		if cfg.Watcher != c.want {
			t.Errorf("%q: watcher %q, want %q", c.src, cfg.Watcher, c.want)
		}
	}
	for _, c := range []struct{ src, want string }{
		{"watcher = \"fanotfy\"\n" + tree, `cfg.py:1:11: watcher must be "inotify" (a watch per directory), "fanotify" (one mark per filesystem; needs root and Linux 5.17) or "auto" (fanotify where it can be used, inotify elsewhere), got string "fanotfy" (did you mean "fanotify"?)`},
		{"watcher = True\n" + tree, `cfg.py:1:11: watcher must be "inotify"`},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
	cfg, _, err := loadSrc(t, "wacher = \"auto\"\n"+tree)
	if err != nil {
		t.Fatal(err)
	}
	if w := cfg.Warnings; len(w) != 1 || !strings.Contains(w[0].Error(), "cfg.py:1:10: wacher is not a setting inosync reads; did you mean watcher?") {
		t.Errorf("a misspelt watcher: warnings %v", w)
	}
}
