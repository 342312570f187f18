package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/internal/testutil"
)

// Each deletion mode with the real rsync: what the target keeps of a file
// only it had at the start (t), and of a file deleted from the source
// while the daemon runs (gone).
func TestDeleteModes(t *testing.T) {
	testutil.NeedRsync(t)
	for _, c := range []struct {
		mode                   string
		keepsOwn, keepsDeleted bool
	}{
		{"True", false, false},
		{"False", true, true},
		{`"startup"`, false, true},
		{`"running"`, true, false},
	} {
		t.Run(c.mode, func(t *testing.T) {
			base := t.TempDir()
			src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
			writeFile(t, filepath.Join(src, "a"), "1")
			writeFile(t, filepath.Join(src, "gone"), "2")
			writeFile(t, filepath.Join(dst, "t"), "the target's own")
			o := startObserved(t, base, fmt.Sprintf("sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, delete = %s)\n", c.mode))
			inSync(t, o, src, "the initial sync")
			if _, err := os.Stat(filepath.Join(dst, "t")); (err == nil) != c.keepsOwn {
				t.Errorf("after the initial sync, t on the target: %v; want kept %v", err, c.keepsOwn)
			}
			if _, err := os.Stat(filepath.Join(dst, "gone")); err != nil {
				t.Fatalf("gone was not synced at start: %v", err)
			}
			must(t, os.Remove(filepath.Join(src, "gone")))
			writeFile(t, filepath.Join(src, "sentinel"), "3")
			testutil.Eventually(t, 10*time.Second, "the sentinel", func() bool {
				_, err := os.Stat(filepath.Join(dst, "sentinel"))
				return err == nil
			})
			inSync(t, o, src, "the deletion's run")
			if _, err := os.Stat(filepath.Join(dst, "gone")); (err == nil) != c.keepsDeleted {
				t.Errorf("after gone was deleted from the source, on the target: %v; want kept %v", err, c.keepsDeleted)
			}
		})
	}
}

// init = False: no initial sync; the target keeps what it has, and only
// what changes from the start on is synced.
func TestInitFalse(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "old"), "before the start")
	writeFile(t, filepath.Join(dst, "t"), "the target's own")
	o := startObserved(t, base, "sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, init = False)\n")
	inSync(t, o, src, "the start")
	writeFile(t, filepath.Join(src, "new"), "after the start")
	testutil.Eventually(t, 10*time.Second, "new on the target", func() bool {
		_, err := os.Stat(filepath.Join(dst, "new"))
		return err == nil
	})
	inSync(t, o, src, "the change's run")
	if got, want := tree(dst), "\"new\":\"after the start\"\n\"t\":\"the target's own\""; got != want {
		t.Errorf("target:\n%s\nwant\n%s", got, want)
	}
	if r, _ := o.report(t); node(t, r, src).Runs != 1 {
		t.Errorf("%d runs, want the change's only", node(t, r, src).Runs)
	}
}

// inSync waits until the tree at src is watched and its node in sync.
func inSync(t *testing.T, o *observed, src, what string) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, what, func() bool {
		r, _ := o.report(t)
		n := node(t, r, src)
		return n.State == status.InSync && r.Trees[0].State == status.TreeWatching
	})
}
