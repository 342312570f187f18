package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/internal/testutil"
)

// --check counts what the daemon will take from the inotify limits: an
// instance per tree (a source and target watched twice is one tree) and
// one more, and a watch per directory its excludes keep.
func TestWatchNeeds(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	for _, d := range []string{"a/x/y", "a/cache/z", "b"} {
		must(t, os.MkdirAll(filepath.Join(base, d), 0o755))
	}
	cfgPath := filepath.Join(base, "cfg.py")
	writeCfg(t, cfgPath, base, `sync("@BASE@/a/", "/t/a/", nodes = [""], excludes = ["/cache/"])
sync("@BASE@/a/", "/t/a/", nodes = ["web1:"])
sync("@BASE@/b/", "/t/b/", nodes = [""])
sync("@BASE@/a/x/", "/t/ax/", nodes = [""])
`)
	cfg, err := config.Load(cfgPath, config.Options{})
	must(t, err)
	n, err := watchNeeds(cfg, nil)
	must(t, err)
	// a, a/x, a/x/y (a/cache excluded) for the first tree; b; a/x, a/x/y.
	// a and b share an instance, a/x is inside a and gets its own.
	if n.Instances != 3 || n.Watches != 6 {
		t.Errorf("needs %+v, want 3 instances (a and b, a/x, the root watch) and 6 watches", n)
	}
}

// With watcher = "fanotify" the trees take no inotify watch, and a tree
// that fanotify cannot watch fails the check as it would fail the start.
func TestWatchNeedsFanotify(t *testing.T) {
	testutil.NeedRsync(t)
	needFanotify(t)
	base := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(base, "a/x"), 0o755))
	cfgPath := filepath.Join(base, "cfg.py")
	writeCfg(t, cfgPath, base, `sync("@BASE@/a/", "/t/a/", nodes = [""])
watcher = "fanotify"
`)
	cfg, err := config.Load(cfgPath, config.Options{})
	must(t, err)
	fan, err := fanotifySources(cfg)
	must(t, err)
	n, err := watchNeeds(cfg, fan)
	must(t, err)
	if !fan[base+"/a/"] || n.Watches != 0 || n.Instances != 1 {
		t.Errorf("fanotify sources %v, needs %+v; want a/ and no watch (the root watch alone)", fan, n)
	}
	if err := checkWatchLimits(cfg); err != nil {
		t.Errorf("--check: %v", err)
	}
}
