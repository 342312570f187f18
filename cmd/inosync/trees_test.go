package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
	"github.com/inosync/inosync/watch"
)

// The status file inside a watched tree, and the temp files it is written
// through, start no sync; nothing else is dropped.
func TestStatusFileIn(t *testing.T) {
	own := statusFileIn("/srv/www/", "/srv/www/state/status.txt")
	for rel, want := range map[string]bool{
		"state/status.txt":         true,
		"state/.status.txt.123456": true,
		"state/status.txt.bak":     false,
		"status.txt":               false,
		"state/.status.txt.1/x":    false,
		"other/.status.txt.123456": false,
	} {
		if got := own(rel); got != want {
			t.Errorf("own(%q) = %v, want %v", rel, got, want)
		}
	}
	for _, out := range []string{"/var/lib/inosync/status.txt", "/srv/www2/status.txt", ""} {
		if statusFileIn("/srv/www", out) != nil {
			t.Errorf("%q is not in /srv/www, but is treated as its own file", out)
		}
	}
}

// The watcher's filter drops the daemon's own file and keeps asking the
// config's filter about everything else.
func TestWithoutOwnFile(t *testing.T) {
	own := statusFileIn("/srv/www", "/srv/www/status.txt")
	noTmp := func(c watch.Change) bool { return c.Rel != "x.tmp" }
	for _, tc := range []struct {
		keep func(watch.Change) bool
		rel  string
		want bool
	}{
		{nil, "status.txt", false},
		{nil, "index.html", true},
		{noTmp, "status.txt", false},
		{noTmp, "x.tmp", false},
		{noTmp, "index.html", true},
	} {
		if got := withoutOwnFile(tc.keep, own)(watch.Change{Rel: tc.rel}); got != tc.want {
			t.Errorf("keep(%q) = %v, want %v (config filter set: %v)", tc.rel, got, tc.want, tc.keep != nil)
		}
	}
	if withoutOwnFile(nil, nil) != nil {
		t.Error("no own file and no config filter should leave the watcher without a filter")
	}
}

// Five hundred trees start in a handful of inotify instances, far below
// the kernel's default of 128 per user, and each gets its own changes (a
// sample of them is synced: 500 runs would take half a minute here).
func TestManyTreesShareInotify(t *testing.T) {
	before := testutil.InotifyInstances(t)
	manyTrees(t, "", func() {
		if got := testutil.InotifyInstances(t) - before; got > 2 {
			t.Errorf("500 trees opened %d inotify instances; want the shared one and the root watch's", got)
		}
	})
}

// Five hundred trees watched with fanotify share one group (their
// filesystem's mark) and open no inotify instance but the root watch's.
func TestManyTreesFanotify(t *testing.T) {
	needFanotify(t)
	inotify, fan := testutil.InotifyInstances(t), testutil.FanotifyGroups(t)
	manyTrees(t, fanotifyCfg, func() {
		if got := testutil.InotifyInstances(t) - inotify; got > 1 {
			t.Errorf("500 trees opened %d inotify instances; want the root watch's alone", got)
		}
		if got := testutil.FanotifyGroups(t) - fan; got != 1 {
			t.Errorf("500 trees opened %d fanotify groups; want 1", got)
		}
	})
}

// manyTrees starts 500 trees with cfgExtra added to the config, calls
// watching once every tree is watched, and syncs a sample of them.
func manyTrees(t *testing.T, cfgExtra string, watching func()) {
	testutil.NeedRsync(t)
	const n = 500
	base := t.TempDir()
	for i := range n {
		must(t, os.MkdirAll(filepath.Join(base, fmt.Sprintf("s%d/d", i)), 0o755))
		must(t, os.MkdirAll(filepath.Join(base, fmt.Sprintf("t%d", i)), 0o755))
	}
	cfgPath := filepath.Join(base, "cfg.py")
	writeCfg(t, cfgPath, base, fmt.Sprintf(`for i in range(%d):
    sync("@BASE@/s%%d/" %% i, "@BASE@/t%%d/" %% i, nodes = [""], delay = 0, init = False)
`, n)+cfgExtra)
	d := runServe(t, cfgPath, serveOptions{pace: intakePace})
	testutil.Eventually(t, time.Minute, "every tree watched", func() bool {
		return strings.Count(d.logs.String(), `"message":"watching"`) == n
	})
	if want := `"watcher":"fanotify"`; strings.Contains(cfgExtra, fanotifyCfg) && strings.Count(d.logs.String(), want) != n {
		t.Errorf("%d of %d trees watched with fanotify", strings.Count(d.logs.String(), want), n)
	}
	watching()
	for i := 0; i < n; i += 25 {
		writeFile(t, filepath.Join(base, fmt.Sprintf("s%d/d/f", i)), fmt.Sprint(i))
	}
	for i := 0; i < n; i += 25 {
		converges(t, filepath.Join(base, fmt.Sprintf("s%d", i)), filepath.Join(base, fmt.Sprintf("t%d", i)), fmt.Sprintf("tree %d", i))
	}
	if dst := filepath.Join(base, "t1"); tree(dst) != "" {
		t.Errorf("tree 1, not written, was synced: %s", tree(dst))
	}
	must(t, d.stop(t))
}
