package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/internal/testutil"
)

// mount mounts a tmpfs on dir (as root; the test is skipped otherwise),
// lazily unmounted at the end of the test.
func mount(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	must(t, os.MkdirAll(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

const oneLocalTree = `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0)
`

// syncedTree (extra is added to the config) starts a daemon on BASE/src (holding the file a) to the local
// target BASE/dst, and waits for its initial sync.
func syncedTree(t *testing.T, extra string) (o *observed, base, src, dst string) {
	t.Helper()
	testutil.NeedRsync(t)
	base = t.TempDir()
	src, dst = filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "a"), "one")
	o = startObserved(t, base, oneLocalTree+extra)
	converges(t, src, dst, "the initial sync")
	return o, base, src, dst
}

// syncedMount (extra is added to the config) starts a daemon on a tmpfs mounted at BASE/src (holding the
// file a) to the local target BASE/dst, and waits for its initial sync.
func syncedMount(t *testing.T, extra string) (o *observed, src, dst string) {
	t.Helper()
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst = filepath.Join(base, "src"), filepath.Join(base, "dst")
	mount(t, src)
	writeFile(t, filepath.Join(src, "a"), "mirror me")
	o = startObserved(t, base, oneLocalTree+extra)
	converges(t, src, dst, "the initial sync")
	return o, src, dst
}

// The source's filesystem unmounted (umount -l): the tree is lost at once,
// loudly (an error, the status failing with the reason); a write into the
// bare mount point is not synced and nothing on the target is deleted;
// a stop exits with an error naming the tree.
func TestSourceUnmounted(t *testing.T) { sourceUnmounted(t, "") }

// sourceUnmounted: extra is added to the config.
func sourceUnmounted(t *testing.T, extra string) {
	o, src, dst := syncedMount(t, extra)
	if out, err := exec.Command("umount", "-l", src).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v: %s", err, out)
	}
	testutil.Eventually(t, 10*time.Second, "the tree failing with the reason", func() bool {
		r, code := o.report(t)
		n := node(t, r, src)
		return code == status.ExitFailing && strings.Contains(n.LastError, "no longer mounted")
	})
	if !strings.Contains(o.logs.String(), "the tree's source is lost") {
		t.Error("the lost source was not logged")
	}
	if r, _ := o.report(t); r.Trees[0].State != status.TreeLost {
		t.Errorf("tree state %q, want %q", r.Trees[0].State, status.TreeLost)
	}
	writeFile(t, filepath.Join(src, "written-below"), "not the mirror's")
	// A resync asked for by hand is refused too.
	if code, _, _ := o.client("resync"); code != 0 {
		t.Errorf("resync: exit %d", code)
	}
	testutil.Eventually(t, 10*time.Second, "the resync refused", func() bool {
		r, _ := o.report(t)
		return node(t, r, src).Failures >= 2
	})
	if got := tree(dst); got != `"a":"mirror me"` {
		t.Errorf("target after the unmount:\n%s\nwant it untouched", got)
	}
	if err := o.stop(t); err == nil || !strings.Contains(err.Error(), src) {
		t.Errorf("stop: %v, want an error naming %s", err, src)
	}
}

// A plain umount of the source succeeds while the daemon runs, a warm
// rsync waiting for its next list included: nothing of the daemon's keeps
// the filesystem busy.
func TestSourceUnmountNotBusy(t *testing.T) { sourceUnmountNotBusy(t, "") }

// sourceUnmountNotBusy: extra is added to the config.
func sourceUnmountNotBusy(t *testing.T, extra string) {
	o, src, dst := syncedMount(t, extra)
	writeFile(t, filepath.Join(src, "b"), "a change")
	converges(t, src, dst, "a change")
	// The rsync that took the change (warm or not) may still be exiting,
	// in the source, and a warm rsync may be taking a later batch of the
	// same write (its close): the node must be in sync, with no run, and
	// only warm rsyncs left, waiting for their lists. Changes less than a
	// second apart keep two warm rsyncs.
	testutil.Eventually(t, 10*time.Second, "the node in sync, only warm rsyncs waiting for their lists", func() bool {
		if r, _ := o.report(t); node(t, r, src).State != status.InSync {
			return false
		}
		w := rsyncChildren(t)
		if len(w) == 0 || len(w) > 2 {
			return false
		}
		for _, p := range w {
			if !p.warm || strings.HasPrefix(p.cwd, src) {
				return false
			}
		}
		return true
	})
	if out, err := exec.Command("umount", src).CombinedOutput(); err != nil {
		users, _ := exec.Command("fuser", "-vm", src).CombinedOutput()
		t.Fatalf("umount with rsyncs %v: %v: %s\n%s", rsyncChildren(t), err, out, users)
	}
	testutil.Eventually(t, 10*time.Second, "the tree failing with the reason", func() bool {
		r, _ := o.report(t)
		return strings.Contains(node(t, r, src).LastError, "no longer mounted")
	})
}

// rsyncChildren lists this process's rsync children, and whether each
// was started ahead of need (given --debug=EXIT2).
func rsyncChildren(t *testing.T) []proc {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	must(t, err)
	var found []proc
	for _, e := range ents {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so cut at its ')'.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		comm := string(stat[bytes.IndexByte(stat, '(')+1 : bytes.LastIndexByte(stat, ')')])
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) || comm != "rsync" {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		found = append(found, proc{pid: e.Name(), cwd: cwd, warm: bytes.Contains(cmdline, []byte("--debug=EXIT2\x00"))})
	}
	return found
}

// proc is an rsync process: its PID, working directory, and whether it
// was started ahead of need.
type proc struct {
	pid, cwd string
	warm     bool
}

// Started on an empty source (the mount point of a filesystem not
// mounted) with a full target: the initial sync is refused, the target
// kept.
func TestStartOnEmptySource(t *testing.T) { startOnEmptySource(t, "") }

func TestStartOnEmptySourceFanotify(t *testing.T) {
	needFanotify(t)
	startOnEmptySource(t, fanotifyCfg)
}

// startOnEmptySource starts on an empty source, with cfgExtra added to
// the config.
func startOnEmptySource(t *testing.T, cfgExtra string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.MkdirAll(src, 0o755))
	writeFile(t, filepath.Join(dst, "a"), "the mirror")
	o := startObserved(t, base, oneLocalTree+cfgExtra)
	testutil.Eventually(t, 10*time.Second, "the initial sync refused", func() bool {
		r, _ := o.report(t)
		return strings.Contains(node(t, r, src).LastError, "is empty but the target")
	})
	if got := tree(dst); got != `"a":"the mirror"` {
		t.Errorf("target:\n%s\nwant it untouched", got)
	}
}

// The source removed and made again, then filled: the new directory is
// watched, synced whole, and a file added afterwards is synced too.
func TestSourceRecreated(t *testing.T) { sourceRecreated(t, "") }

// sourceRecreated: extra is added to the config.
func sourceRecreated(t *testing.T, extra string) {
	o, _, src, dst := syncedTree(t, extra)
	must(t, os.RemoveAll(src))
	must(t, os.Mkdir(src, 0o755))
	writeFile(t, filepath.Join(src, "b"), "two")
	converges(t, src, dst, "the new source synced whole")
	writeFile(t, filepath.Join(src, "c"), "added afterwards")
	converges(t, src, dst, "a file added to the new source")
	if !strings.Contains(o.logs.String(), "the source now leads to another directory") {
		t.Error("the switch was not logged")
	}
}

// The source renamed away and another directory renamed into its place:
// the new one is followed.
func TestSourceSwappedByRename(t *testing.T) { sourceSwappedByRename(t, "") }

// sourceSwappedByRename: extra is added to the config.
func sourceSwappedByRename(t *testing.T, extra string) {
	_, base, src, dst := syncedTree(t, extra)
	next := filepath.Join(base, "next")
	writeFile(t, filepath.Join(next, "a"), "new release")
	writeFile(t, filepath.Join(next, "b"), "new file")
	must(t, os.Rename(src, filepath.Join(base, "old")))
	must(t, os.Rename(next, src))
	converges(t, src, dst, "the directory renamed into place")
	writeFile(t, filepath.Join(src, "c"), "edited after the swap")
	converges(t, src, dst, "an edit in the new directory")
}

// A symlinked source re-pointed (current -> releases/2, the usual deploy):
// the target becomes release 2, later edits in release 2 are synced, and
// an edit in the old release is not.
func TestSymlinkedSourceRepointed(t *testing.T) { symlinkedSourceRepointed(t, "") }

// symlinkedSourceRepointed: extra is added to the config.
func symlinkedSourceRepointed(t *testing.T, extra string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	r1, r2 := filepath.Join(base, "releases/1"), filepath.Join(base, "releases/2")
	writeFile(t, filepath.Join(r1, "index"), "release 1")
	writeFile(t, filepath.Join(r2, "index"), "release 2!")
	writeFile(t, filepath.Join(r2, "new"), "only in 2")
	must(t, os.Symlink("releases/1", filepath.Join(base, "current")))
	dst := filepath.Join(base, "dst")
	startObserved(t, base, `sync("@BASE@/current/", "@BASE@/dst/", nodes = [""], delay = 0)
`+extra)
	converges(t, r1, dst, "release 1")
	// ln -sfn: a new link renamed over the old one.
	must(t, os.Symlink("releases/2", filepath.Join(base, "current.tmp")))
	must(t, os.Rename(filepath.Join(base, "current.tmp"), filepath.Join(base, "current")))
	converges(t, r2, dst, "release 2 after the switch")
	writeFile(t, filepath.Join(r2, "late"), "edited in release 2")
	converges(t, r2, dst, "an edit in release 2")
	writeFile(t, filepath.Join(r1, "stale"), "edited in the old release")
	writeFile(t, filepath.Join(r2, "later"), "a second edit in release 2")
	converges(t, r2, dst, "release 2 alone")
}

// The source renamed away and back: the same directory, but its watcher
// let go of it when it went; it is watched again, and a file added
// afterwards is synced.
func TestSourceRenamedAwayAndBack(t *testing.T) { sourceRenamedAwayAndBack(t, "") }

// sourceRenamedAwayAndBack: extra is added to the config.
func sourceRenamedAwayAndBack(t *testing.T, extra string) {
	_, _, src, dst := syncedTree(t, extra)
	must(t, os.Rename(src, src+".away"))
	must(t, os.Rename(src+".away", src))
	writeFile(t, filepath.Join(src, "b"), "added after it came back")
	converges(t, src, dst, "a file added after the source came back")
}

// The source's faults, with the trees watched through fanotify.
func TestSourceFaultsFanotify(t *testing.T) {
	needFanotify(t)
	for name, test := range map[string]func(*testing.T, string){
		"SourceUnmounted":          sourceUnmounted,
		"SourceUnmountNotBusy":     sourceUnmountNotBusy,
		"SourceRecreated":          sourceRecreated,
		"SourceSwappedByRename":    sourceSwappedByRename,
		"SymlinkedSourceRepointed": symlinkedSourceRepointed,
		"SourceRenamedAwayAndBack": sourceRenamedAwayAndBack,
	} {
		t.Run(name, func(t *testing.T) { test(t, fanotifyCfg) })
	}
}
