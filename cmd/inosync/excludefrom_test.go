package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// exclude_from: the file's patterns keep paths off the target, in the
// initial sync and while running.
func TestExcludeFromFile(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(base, "web.excludes"), "# scratch files\n*.tmp\n/cache/\n")
	writeFile(t, filepath.Join(src, "a"), "1")
	writeFile(t, filepath.Join(src, "a.tmp"), "scratch")
	writeFile(t, filepath.Join(src, "cache/c"), "cached")
	o := startObserved(t, base, "sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, exclude_from = \"@BASE@/web.excludes\")\n")
	inSync(t, o, src, "the initial sync")
	writeFile(t, filepath.Join(src, "b.tmp"), "scratch")
	writeFile(t, filepath.Join(src, "b"), "2")
	testutil.Eventually(t, 10*time.Second, "b on the target", func() bool {
		_, err := os.Stat(filepath.Join(dst, "b"))
		return err == nil
	})
	inSync(t, o, src, "b's run")
	if got, want := tree(dst), "\"a\":\"1\"\n\"b\":\"2\""; got != want {
		t.Errorf("target:\n%s\nwant\n%s", got, want)
	}
}

// filters: an include rule rescues what a later exclude rule would leave
// out, in the initial sync and while running.
func TestFiltersIncludeFirst(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "keep/a"), "1")
	writeFile(t, filepath.Join(src, "other/b"), "2")
	writeFile(t, filepath.Join(src, "c"), "3")
	o := startObserved(t, base, "sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, filters = [\"+ /keep/***\", \"- *\"])\n")
	inSync(t, o, src, "the initial sync")
	writeFile(t, filepath.Join(src, "d"), "left out")
	writeFile(t, filepath.Join(src, "keep/e"), "4")
	testutil.Eventually(t, 10*time.Second, "keep/e on the target", func() bool {
		_, err := os.Stat(filepath.Join(dst, "keep/e"))
		return err == nil
	})
	inSync(t, o, src, "keep/e's run")
	if got, want := tree(dst), "\"keep\"/\n\"keep/a\":\"1\"\n\"keep/e\":\"4\""; got != want {
		t.Errorf("target:\n%s\nwant\n%s", got, want)
	}
}
