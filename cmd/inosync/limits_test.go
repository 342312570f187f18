package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/internal/testutil"
)

// --check counts what the daemon will take from the inotify limits: the
// shared instance and the root watch's, and a watch per directory that the
// excludes keep, for each tree (a source and target watched twice is one
// tree).
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
`)
	cfg, err := config.Load(cfgPath, config.Options{})
	must(t, err)
	n, err := watchNeeds(cfg)
	must(t, err)
	// a, a/x, a/x/y (a/cache excluded) for the first tree; b.
	if n.Instances != 2 || n.Watches != 4 {
		t.Errorf("needs %+v, want 2 instances (the shared one and the root watch) and 4 watches", n)
	}
}

// More trees than the default fs.inotify.max_user_instances (128) start and
// sync: they share one inotify instance.
func TestManyTreesShareOneInstance(t *testing.T) {
	testutil.NeedRsync(t)
	const trees = 150
	base := t.TempDir()
	for i := range trees {
		writeFile(t, filepath.Join(base, fmt.Sprintf("src%d/f", i)), "1")
	}
	before := inotifyInstances(t)
	o := startObserved(t, base, fmt.Sprintf(`for i in range(%d):
    sync("@BASE@/src%%d/" %% i, "@BASE@/dst%%d/" %% i, nodes = [""], delay = 0)
`, trees))
	testutil.Eventually(t, 60*time.Second, "every tree in sync", func() bool {
		r, _ := o.report(t)
		n := 0
		for _, tr := range r.Trees {
			if tr.State == status.TreeWatching && len(tr.Nodes) == 1 && tr.Nodes[0].State == status.InSync {
				n++
			}
		}
		return n == trees
	})
	if n := inotifyInstances(t) - before; n > 2 {
		t.Errorf("%d trees took %d inotify instances, want 2 (the shared one and the root watch's)", trees, n)
	}
	last := fmt.Sprintf("%d", trees-1)
	writeFile(t, filepath.Join(base, "src"+last, "g"), "2")
	converges(t, filepath.Join(base, "src"+last), filepath.Join(base, "dst"+last), "a change in the last tree")
}

// inotifyInstances counts this process's inotify instances.
func inotifyInstances(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	must(t, err)
	n := 0
	for _, fd := range fds {
		if l, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); l == "anon_inode:inotify" {
			n++
		}
	}
	return n
}
