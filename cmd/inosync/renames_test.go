package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

func TestReusedNamesByContent(t *testing.T) { reusedNamesByContent(t, "") }

func TestReusedNamesByContentFanotify(t *testing.T) {
	needFanotify(t)
	reusedNamesByContent(t, fanotifyCfg)
}

// reusedNamesByContent swaps two files through a third name and rotates
// three (r2 → r3, r1 → r2, r0 → r1), all of one size and one modification
// time, as tar or cp -p leave them, with extra added to the config: the
// target ends with the moved files under the reused names, not with the
// old files that rsync's size-and-time check would keep there.
func reusedNamesByContent(t *testing.T, extra string) {
	o, _, src, dst := syncedTree(t, extra)
	stamp := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	names := map[string]string{"swapA": "AAAA", "swapB": "BBBB", "log/r0": "1111", "log/r1": "2222", "log/r2": "3333"}
	for name, content := range names {
		writeFile(t, filepath.Join(src, name), content)
		must(t, os.Chtimes(filepath.Join(src, name), stamp, stamp))
	}
	testutil.Eventually(t, 20*time.Second, "the files and their times on the target", func() bool {
		for name, content := range names {
			fi, err := os.Stat(filepath.Join(dst, name))
			b, _ := os.ReadFile(filepath.Join(dst, name))
			if err != nil || !fi.ModTime().Equal(stamp) || string(b) != content {
				return false
			}
		}
		return true
	})
	rename := func(from, to string) { must(t, os.Rename(filepath.Join(src, from), filepath.Join(src, to))) }
	rename("swapA", "tmpx")
	rename("swapB", "swapA")
	rename("tmpx", "swapB")
	rename("log/r2", "log/r3")
	rename("log/r1", "log/r2")
	rename("log/r0", "log/r1")
	converges(t, src, dst, "the swapped and rotated files")
	if !strings.Contains(o.logs.String(), "by content, not by size and time") && !strings.Contains(o.logs.String(), "--ignore-times --fuzzy") {
		t.Errorf("no run or rename copy compared by content:\n%s", o.logs.String())
	}
}
