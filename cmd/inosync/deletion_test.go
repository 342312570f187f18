package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/internal/testutil"
	"github.com/inosync/inosync/watch"
)

// Each deletion mode with the real rsync: what the target keeps of a file
// only it had at the start (t), and of a file deleted from the source
// while the daemon runs (gone).
func TestDeleteModes(t *testing.T) { deleteModes(t, "") }

func TestDeleteModesFanotify(t *testing.T) {
	needFanotify(t)
	deleteModes(t, fanotifyCfg)
}

// deleteModes: extra is added to the config.
func deleteModes(t *testing.T, extra string) {
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
			o := startObserved(t, base, fmt.Sprintf("sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, delete = %s)\n", c.mode)+extra)
			inSync(t, o, src, "the initial sync")
			if _, err := os.Stat(filepath.Join(dst, "t")); (err == nil) != c.keepsOwn {
				t.Errorf("after the initial sync, t on the target: %v; want kept %v", err, c.keepsOwn)
			}
			if _, err := os.Stat(filepath.Join(dst, "gone")); err != nil {
				t.Fatalf("gone was not synced at start: %v", err)
			}
			must(t, os.Remove(filepath.Join(src, "gone")))
			writeFile(t, filepath.Join(src, "sentinel"), "3")
			testutil.Eventually(t, 10*time.Second, "the sentinel", exists(filepath.Join(dst, "sentinel")))
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
	testutil.Eventually(t, 10*time.Second, "new on the target", exists(filepath.Join(dst, "new")))
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

// sync(after=…) end to end: the command runs after the initial sync and
// after each change's run, per node, with the paths on standard input; a
// node with node(after = []) runs none, and the status shows each.
func TestAfterCommand(t *testing.T) { afterCommandRuns(t, "") }

func TestAfterCommandFanotify(t *testing.T) {
	needFanotify(t)
	afterCommandRuns(t, fanotifyCfg)
}

// afterCommandRuns runs the after commands with cfgExtra added to the config.
func afterCommandRuns(t *testing.T, cfgExtra string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src := filepath.Join(base, "src")
	writeFile(t, filepath.Join(src, "old"), "1")
	log := filepath.Join(base, "after.log")
	script := filepath.Join(base, "purge")
	writeFile(t, script, "#!/bin/sh\nprintf '%s %s %s:' \"$1\" \"$INOSYNC_TARGET\" \"$INOSYNC_FULL\" >>"+log+"\ntr '\\000' ' ' >>"+log+"\necho >>"+log+"\n")
	must(t, os.Chmod(script, 0o755))
	o := startObserved(t, base, `sync("@BASE@/src/", "/", delay = 0, after = ["@BASE@/purge", "www"],
     nodes = ["@BASE@/d1", node("@BASE@/d2", after = [])])
`+cfgExtra)
	testutil.Eventually(t, 10*time.Second, "the after command for the initial sync", func() bool {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "\n") >= 1
	})
	writeFile(t, filepath.Join(src, "new"), "2")
	testutil.Eventually(t, 10*time.Second, "the after command for the change", func() bool {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "\n") >= 2
	})
	// The change may be synced in more than one run (a write and its
	// close can come apart): each run's after command names it.
	b, _ := os.ReadFile(log)
	lines := strings.SplitAfter(string(b), "\n")
	if lines[0] != "www "+base+"/d1/ 1:\n" {
		t.Errorf("after command of the initial sync: %q", lines[0])
	}
	for _, l := range lines[1:] {
		if l != "" && l != "www "+base+"/d1/ 0:new \n" {
			t.Errorf("after command of the change: %q, want %q", l, "www "+base+"/d1/ 0:new \n")
		}
	}
	var r status.Report
	testutil.Eventually(t, 10*time.Second, "the status counting the second after command", func() bool {
		r, _ = o.report(t)
		for _, n := range r.Trees[0].Nodes {
			if n.After != nil && (n.After.Running || n.After.Runs < 2) {
				return false
			}
		}
		return true
	})
	var with, without int
	for _, n := range r.Trees[0].Nodes {
		switch {
		case n.After == nil:
			without++
		case n.After.Runs >= 2 && n.After.Failed == 0 && n.After.LastError == "":
			with++
		default:
			t.Errorf("node %s: after %+v", n.Node, n.After)
		}
	}
	if with != 1 || without != 1 {
		t.Errorf("%d nodes with 2 or more after runs, %d without an after command; want 1 and 1", with, without)
	}
	if _, err := os.Stat(filepath.Join(base, "d2", "new")); err != nil {
		t.Errorf("d2 is not synced: %v", err)
	}
}

// A reload that turns delete to True, or init on, syncs the tree whole
// once: the file deleted from the source while delete was False goes from
// the target, and a target left to differ by init = False is brought in
// line.
func TestReloadCatchUp(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "a"), "1")
	writeFile(t, filepath.Join(src, "gone"), "2")
	o := startObserved(t, base, "sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, delete = False)\n")
	inSync(t, o, src, "the initial sync")
	must(t, os.Remove(filepath.Join(src, "gone")))
	writeFile(t, filepath.Join(src, "sentinel"), "3")
	testutil.Eventually(t, 10*time.Second, "the sentinel", exists(filepath.Join(dst, "sentinel")))
	inSync(t, o, src, "the run without deletion")
	if _, err := os.Stat(filepath.Join(dst, "gone")); err != nil {
		t.Fatalf("with delete = False the target lost gone: %v", err)
	}
	writeCfg(t, o.cfg, base, "sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, delete = True)\n")
	code, out, errs := o.client("reload")
	if code != 0 || !strings.Contains(out, "synced whole for their new excludes, init or delete: "+src+"/") {
		t.Fatalf("reload exit %d: %s%s", code, out, errs)
	}
	testutil.Eventually(t, 10*time.Second, "gone deleted on the target by the catch-up sync", func() bool {
		_, err := os.Stat(filepath.Join(dst, "gone"))
		return os.IsNotExist(err)
	})
	if got, want := tree(dst), tree(src); got != want {
		t.Errorf("target after the catch-up:\n%s\nwant\n%s", got, want)
	}
}

// catchUp: which changes of init and delete ask for one full sync.
func TestCatchUp(t *testing.T) {
	s := func(init bool, del string) config.Sync { return config.Sync{Init: init, Delete: del} }
	for _, c := range []struct {
		a, b config.Sync
		want bool
	}{
		{s(false, config.DeleteAll), s(true, config.DeleteAll), true},
		{s(true, config.DeleteNone), s(true, config.DeleteAll), true},
		{s(true, config.DeleteRunning), s(true, config.DeleteAll), true},
		{s(true, config.DeleteAll), s(true, config.DeleteAll), false},
		{s(true, config.DeleteAll), s(false, config.DeleteNone), false},
		{s(true, config.DeleteNone), s(true, config.DeleteStartup), false},
	} {
		if got := catchUp(c.a, c.b); got != c.want {
			t.Errorf("catchUp(%+v, %+v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// A reload that turns init on runs the initial sync then, with its
// deletion: with delete = "startup" the target's own file goes, as at a
// start.
func TestReloadInitOn(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "a"), "1")
	writeFile(t, filepath.Join(dst, "own"), "the target's own")
	o := startObserved(t, base, "sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, delete = \"startup\", init = False)\n")
	inSync(t, o, src, "the start without an initial sync")
	if _, err := os.Stat(filepath.Join(dst, "a")); err == nil {
		t.Fatal("init = False synced a at the start")
	}
	writeCfg(t, o.cfg, base, "sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 0, delete = \"startup\")\n")
	if code, out, errs := o.client("reload"); code != 0 || !strings.Contains(out, "synced whole for their new excludes, init or delete") {
		t.Fatalf("reload exit %d: %s%s", code, out, errs)
	}
	testutil.Eventually(t, 10*time.Second, "the initial sync after the reload", func() bool {
		_, errOwn := os.Stat(filepath.Join(dst, "own"))
		_, errA := os.Stat(filepath.Join(dst, "a"))
		return os.IsNotExist(errOwn) && errA == nil
	})
}

// delete = "running": more changes in one directory than a batch lists
// one by one (watch.DefaultPerDir) still delete on the target only what
// was deleted on the source, not the target's own files there.
func TestDeleteRunningManyChangesInOneDir(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "d/gone"), "1")
	writeFile(t, filepath.Join(dst, "d/own"), "the target's own")
	o := startObserved(t, base, "sync(\"@BASE@/src/\", \"@BASE@/dst/\", nodes = [\"\"], delay = 1, delete = \"running\")\n")
	testutil.Eventually(t, 10*time.Second, "the initial sync", exists(filepath.Join(dst, "d/gone")))
	must(t, os.Remove(filepath.Join(src, "d/gone")))
	n := watch.DefaultPerDir + 12
	for i := range n {
		writeFile(t, filepath.Join(src, fmt.Sprintf("d/f%03d", i)), "2")
	}
	last := filepath.Join(dst, fmt.Sprintf("d/f%03d", n-1))
	testutil.Eventually(t, 20*time.Second, "the new files", exists(last))
	inSync(t, o, src, "the changes' run")
	if _, err := os.Stat(filepath.Join(dst, "d/gone")); err == nil {
		t.Error("d/gone, deleted on the source, is still on the target")
	}
	if _, err := os.Stat(filepath.Join(dst, "d/own")); err != nil {
		t.Errorf("the target's own file: %v", err)
	}
}

// exists is a condition for testutil.Eventually: path exists.
func exists(path string) func() bool {
	return func() bool {
		_, err := os.Stat(path)
		return err == nil
	}
}
