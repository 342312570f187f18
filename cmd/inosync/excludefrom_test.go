package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// exclude_from: the file's patterns keep paths off the target, in the
// initial sync and while running.
func TestExcludeFromFile(t *testing.T) { excludeFromFile(t, "") }

func TestExcludeFromFileFanotify(t *testing.T) {
	needFanotify(t)
	excludeFromFile(t, fanotifyCfg)
}

// excludeFromFile: extra is added to the config.
func excludeFromFile(t *testing.T, extra string) {
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "web.excludes"), "# scratch files\n*.tmp\n/cache/\n")
	o, src, dst := filteredTree(t, base, `exclude_from = "@BASE@/web.excludes"`, extra, "a", "a.tmp", "cache/c")
	writeFile(t, filepath.Join(src, "b.tmp"), "scratch")
	syncedLater(t, o, src, dst, "b")
	if got, want := tree(dst), "\"a\":\"a\"\n\"b\":\"b\""; got != want {
		t.Errorf("target:\n%s\nwant\n%s", got, want)
	}
}

// filters: an include rule rescues what a later exclude rule would leave
// out, in the initial sync and while running.
func TestFiltersIncludeFirst(t *testing.T) { filtersIncludeFirst(t, "") }

func TestFiltersIncludeFirstFanotify(t *testing.T) {
	needFanotify(t)
	filtersIncludeFirst(t, fanotifyCfg)
}

// filtersIncludeFirst: extra is added to the config.
func filtersIncludeFirst(t *testing.T, extra string) {
	o, src, dst := filteredTree(t, t.TempDir(), `filters = ["+ /keep/***", "- *"]`, extra, "keep/a", "other/b", "c")
	writeFile(t, filepath.Join(src, "d"), "left out")
	syncedLater(t, o, src, dst, "keep/e")
	if got, want := tree(dst), "\"keep\"/\n\"keep/a\":\"keep/a\"\n\"keep/e\":\"keep/e\""; got != want {
		t.Errorf("target:\n%s\nwant\n%s", got, want)
	}
}

// filteredTree starts a daemon on BASE/src, which holds the given files
// (each holding its own name), to the local BASE/dst with the sync()
// arguments args (and extra added to the config), and waits for the
// initial sync.
func filteredTree(t *testing.T, base, args, extra string, files ...string) (o *observed, src, dst string) {
	t.Helper()
	testutil.NeedRsync(t)
	src, dst = filepath.Join(base, "src"), filepath.Join(base, "dst")
	for _, f := range files {
		writeFile(t, filepath.Join(src, f), f)
	}
	o = startObserved(t, base, fmt.Sprintf("sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, %s)\n", args)+extra)
	inSync(t, o, src, "the initial sync")
	return o, src, dst
}

// syncedLater writes the file rel (holding its name) into src and waits
// until it is on dst and the node is in sync again.
func syncedLater(t *testing.T, o *observed, src, dst, rel string) {
	t.Helper()
	writeFile(t, filepath.Join(src, rel), rel)
	testutil.Eventually(t, 10*time.Second, rel+" on the target", func() bool {
		_, err := os.Stat(filepath.Join(dst, rel))
		return err == nil
	})
	inSync(t, o, src, rel+"'s run")
}
