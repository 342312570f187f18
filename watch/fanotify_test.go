package watch

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/inosync/inosync/internal/testutil"
)

// newFanotify returns a fanotify group that ends with the test; the test
// is skipped (under CI it fails) where fanotify cannot be used.
func newFanotify(t *testing.T) *Fanotify {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lg, _ := testLogger(t)
	f, err := NewFanotify(ctx, FanotifyOptions{Logger: lg})
	testutil.Need(t, "fanotify (root, Linux 5.17)", err)
	t.Cleanup(func() {
		cancel()
		<-f.done
	})
	return f
}

// fanWatcher makes a Watcher of root in group f.
func fanWatcher(t *testing.T, f *Fanotify, opts Options) *Watcher {
	t.Helper()
	opts.Fanotify = f
	return newWatcher(t, opts)
}

// changed reports whether some change of rel has an op in ops: the
// fanotify queue merges the events of one name (a new file's CREATE,
// WRITE and CLOSE_WRITE come as one).
func changed(r *recorder, rel string, ops Op) bool {
	return r.any(func(c Change) bool { return c.Rel == rel && c.Op&ops != 0 })
}

func TestFanotifyFiles(t *testing.T) {
	root := t.TempDir()
	w := fanWatcher(t, newFanotify(t), Options{Root: root + "/", Trigger: allFileOps | CloseWrite})
	r := run(t, w)
	f := filepath.Join(root, "f")
	writeFile(t, f)
	testutil.Eventually(t, 5*time.Second, "CREATE f", func() bool { return changed(r, "f", Create) })
	testutil.Eventually(t, 5*time.Second, "CLOSE_WRITE f", func() bool { return changed(r, "f", CloseWrite) })
	if err := os.Rename(f, filepath.Join(root, "g")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "RENAME f", func() bool { return changed(r, "f", Rename) })
	testutil.Eventually(t, 5*time.Second, "CREATE g, renamed from f", func() bool { return r.has(Change{Rel: "g", Op: Create, From: "f"}) })
	if err := os.Remove(filepath.Join(root, "g")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "REMOVE g", func() bool { return changed(r, "g", Remove) })
	if w.Watches() != 0 {
		t.Errorf("Watches() = %d with fanotify, want 0", w.Watches())
	}
}

// With IN_CLOSE_WRITE alone in emask, the close after a write is
// reported as such; the write itself starts a sync too (a file written
// and never closed must not wait for ever: the consumer holds a file back
// while it is open for writing).
func TestFanotifyCloseWrite(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "f"))
	w := fanWatcher(t, newFanotify(t), Options{Root: root, Trigger: CloseWrite})
	r := run(t, w)
	fh, err := os.OpenFile(filepath.Join(root, "f"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteString("more"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "WRITE f", func() bool { return r.has(Change{Rel: "f", Op: Write}) })
	if r.any(func(c Change) bool { return c.Op&CloseWrite != 0 }) {
		t.Errorf("a close reported before it happened: %v", r.changes())
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "CLOSE_WRITE f", func() bool { return r.has(Change{Rel: "f", Op: CloseWrite}) })
}

func TestFanotifyDirs(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	mkdirs(t, root, "d/s/t", "other")
	mkdirs(t, outside, "m/sub")
	w := fanWatcher(t, newFanotify(t), Options{Root: root, Trigger: allFileOps})
	r := run(t, w)

	mkdirs(t, root, "a/b/c")
	writeFile(t, filepath.Join(root, "a/b/c/f"))
	testutil.Eventually(t, 5*time.Second, "a/b/c/f covered", func() bool { return r.covered("a/b/c/f") })
	testutil.Eventually(t, 5*time.Second, "CREATE a (dir)", func() bool { return r.has(Change{Rel: "a", Op: Create, IsDir: true}) })

	if err := os.Rename(filepath.Join(root, "d"), filepath.Join(root, "e")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "RENAME d (dir)", func() bool { return r.has(Change{Rel: "d", Op: Rename, IsDir: true}) })
	testutil.Eventually(t, 5*time.Second, "CREATE e (dir), renamed from d", func() bool {
		return r.has(Change{Rel: "e", Op: Create, IsDir: true, From: "d"})
	})
	writeFile(t, filepath.Join(root, "e/s/t/late"))
	testutil.Eventually(t, 5*time.Second, "CREATE e/s/t/late", func() bool { return changed(r, "e/s/t/late", Create) })
	if r.any(func(c Change) bool { return strings.HasPrefix(c.Rel, "d/") }) {
		t.Errorf("stale path reported: %v", r.changes())
	}
	if err := os.Chmod(filepath.Join(root, "e/s"), 0o700); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "CHMOD e/s (dir)", func() bool {
		return r.has(Change{Rel: "e/s", Op: Chmod, IsDir: true, Quiet: true})
	})

	// Moved in from outside the tree, and out again.
	if err := os.Rename(filepath.Join(outside, "m"), filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "CREATE in (dir)", func() bool { return r.has(Change{Rel: "in", Op: Create, IsDir: true}) })
	writeFile(t, filepath.Join(root, "in/sub/new"))
	testutil.Eventually(t, 5*time.Second, "CREATE in/sub/new", func() bool { return changed(r, "in/sub/new", Create) })
	if err := os.Rename(filepath.Join(root, "in"), filepath.Join(outside, "back")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "RENAME in (dir)", func() bool { return r.has(Change{Rel: "in", Op: Rename, IsDir: true}) })
	writeFile(t, filepath.Join(outside, "back/sub/gone"))
	if err := os.RemoveAll(filepath.Join(root, "other")); err != nil {
		t.Fatal(err)
	}
	// Events come in order: once other's removal is seen, the write
	// outside the tree was handled.
	testutil.Eventually(t, 5*time.Second, "REMOVE other (dir)", func() bool { return r.has(Change{Rel: "other", Op: Remove, IsDir: true}) })
	if r.any(func(c Change) bool { return strings.Contains(c.Rel, "gone") }) {
		t.Errorf("a write outside the tree was reported: %v", r.changes())
	}
}

func TestFanotifyExclude(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "skip/deep", "a")
	w := fanWatcher(t, newFanotify(t), Options{Root: root, Trigger: allFileOps, Exclude: skipAndTmp})
	r := run(t, w)
	writeFile(t, filepath.Join(root, "skip/f"))
	writeFile(t, filepath.Join(root, "skip/deep/f"))
	writeFile(t, filepath.Join(root, "a/x.tmp"))
	mkdirs(t, root, "n/skip")
	writeFile(t, filepath.Join(root, "n/skip/g"))
	writeFile(t, filepath.Join(root, "a/marker"))
	testutil.Eventually(t, 5*time.Second, "CREATE a/marker", func() bool { return changed(r, "a/marker", Create) })
	if r.any(func(c Change) bool {
		return strings.HasSuffix(c.Rel, ".tmp") || c.Rel == "skip" || strings.Contains(c.Rel, "skip/")
	}) {
		t.Errorf("excluded path reported: %v", r.changes())
	}
}

// Trees on one filesystem share the mark; each gets its own events, and
// a tree inside another gets them as well as the outer one.
func TestFanotifyTrees(t *testing.T) {
	base := t.TempDir()
	mkdirs(t, base, "one/inner", "two")
	f := newFanotify(t)
	one := run(t, fanWatcher(t, f, Options{Root: filepath.Join(base, "one"), Trigger: allFileOps}))
	inner := run(t, fanWatcher(t, f, Options{Root: filepath.Join(base, "one/inner"), Trigger: allFileOps}))
	two := run(t, fanWatcher(t, f, Options{Root: filepath.Join(base, "two"), Trigger: allFileOps}))
	writeFile(t, filepath.Join(base, "two/t"))
	writeFile(t, filepath.Join(base, "one/inner/i"))
	testutil.Eventually(t, 5*time.Second, "two: CREATE t", func() bool { return changed(two, "t", Create) })
	testutil.Eventually(t, 5*time.Second, "inner: CREATE i", func() bool { return changed(inner, "i", Create) })
	testutil.Eventually(t, 5*time.Second, "one: CREATE inner/i", func() bool { return changed(one, "inner/i", Create) })
	if one.any(func(c Change) bool { return c.Rel == "t" }) || two.any(func(c Change) bool { return c.Rel != "t" }) {
		t.Errorf("a change went to the wrong tree: one %v, two %v", one.changes(), two.changes())
	}
	if got := len(f.fss); got != 1 {
		t.Errorf("%d filesystems marked, want 1", got)
	}
}

func TestFanotifySymlinkedRoot(t *testing.T) {
	base := t.TempDir()
	mkdirs(t, base, "real")
	if err := os.Symlink("real", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	r := run(t, fanWatcher(t, newFanotify(t), Options{Root: filepath.Join(base, "link"), Trigger: allFileOps}))
	writeFile(t, filepath.Join(base, "real/f"))
	testutil.Eventually(t, 5*time.Second, "CREATE f", func() bool { return changed(r, "f", Create) })
}

func TestFanotifyRootRemoved(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	mkdirs(t, parent, "root/a/b")
	lg, logs := testLogger(t)
	w := fanWatcher(t, newFanotify(t), Options{Root: root, Trigger: allFileOps, Logger: lg})
	r := run(t, w)
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "REMOVE root", func() bool { return r.has(Change{Rel: "", Op: Remove, IsDir: true}) })
	if !w.RootLost() {
		t.Error("RootLost() = false after the root was removed")
	}
	if !strings.Contains(logs.String(), `"message":"watched directory disappeared"`) {
		t.Errorf("no error logged; log:\n%s", logs)
	}
}

// Nothing is held open in a watched filesystem: it can be unmounted
// (not lazily) while its tree is watched.
func TestFanotifyUnmountNotBusy(t *testing.T) {
	mnt := t.TempDir()
	mountTmpfs(t, mnt)
	mkdirs(t, mnt, "d")
	r := run(t, fanWatcher(t, newFanotify(t), Options{Root: mnt, Trigger: allFileOps}))
	writeFile(t, filepath.Join(mnt, "d/f"))
	testutil.Eventually(t, 5*time.Second, "CREATE d/f", func() bool { return changed(r, "d/f", Create) })
	if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
		t.Fatalf("umount of the watched filesystem: %v: %s", err, out)
	}
}

// An overflow of a filesystem's group syncs every tree on that
// filesystem whole, and no other: each filesystem has its own group.
func TestFanotifyOverflow(t *testing.T) {
	f := newFanotify(t)
	other := t.TempDir()
	mountTmpfs(t, other)
	a := run(t, fanWatcher(t, f, Options{Root: t.TempDir(), Trigger: allFileOps}))
	b := run(t, fanWatcher(t, f, Options{Root: t.TempDir(), Trigger: allFileOps}))
	c := run(t, fanWatcher(t, f, Options{Root: other, Trigger: allFileOps}))
	groups := 0
	_ = f.do(func() {
		groups = len(f.fss)
		fsid, _, err := fsOf(t.TempDir())
		if err != nil {
			t.Error(err)
			return
		}
		f.handle(f.fss[fsid], []fanEvent{{mask: unix.FAN_Q_OVERFLOW}})
	})
	if groups != 2 {
		t.Errorf("%d fanotify groups for trees on 2 filesystems", groups)
	}
	for name, r := range map[string]*recorder{"a": a, "b": b} {
		testutil.Eventually(t, 5*time.Second, name+": the whole tree", func() bool { return r.has(wholeTree) })
	}
	// c gets its changes in the loop's order: a whole tree sent for the
	// overflow would come before the file made after it.
	writeFile(t, filepath.Join(other, "f"))
	testutil.Eventually(t, 5*time.Second, "c still watched", func() bool { return changed(c, "f", Create) })
	if c.has(wholeTree) {
		t.Errorf("a tree on another filesystem was synced whole: %v", c.changes())
	}
}

// fanRecordBytes builds an info record as the kernel writes it.
func fanRecordBytes(kind uint8, fsid [8]byte, htype int32, handle []byte, name string) []byte {
	body := append([]byte{}, fsid[:]...)
	body = binary.NativeEndian.AppendUint32(body, uint32(len(handle)))
	body = binary.NativeEndian.AppendUint32(body, uint32(htype))
	body = append(body, handle...)
	if kind != recDir {
		body = append(body, name...)
		body = append(body, 0)
	}
	for (4+len(body))%4 != 0 {
		body = append(body, 0)
	}
	rec := []byte{kind, 0}
	rec = binary.NativeEndian.AppendUint16(rec, uint16(4+len(body)))
	return append(rec, body...)
}

func fanEventBytes(mask uint64, recs ...[]byte) []byte {
	n := fanMetadataLen
	for _, r := range recs {
		n += len(r)
	}
	b := binary.NativeEndian.AppendUint32(nil, uint32(n))
	b = append(b, fanVersion, 0)
	b = binary.NativeEndian.AppendUint16(b, fanMetadataLen)
	b = binary.NativeEndian.AppendUint64(b, mask)
	b = binary.NativeEndian.AppendUint32(b, ^uint32(0)) // fd -1
	b = binary.NativeEndian.AppendUint32(b, 42)         // pid
	for _, r := range recs {
		b = append(b, r...)
	}
	return b
}

func TestParseFanEvents(t *testing.T) {
	fsid := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	buf := fanEventBytes(unix.FAN_CREATE|unix.FAN_CLOSE_WRITE, fanRecordBytes(recName, fsid, 1, []byte{9, 9, 9, 9, 9, 9, 9, 9}, "f"))
	buf = append(buf, fanEventBytes(unix.FAN_RENAME|unix.FAN_ONDIR,
		fanRecordBytes(recOld, fsid, 1, []byte{1, 1, 1, 1}, "old"),
		fanRecordBytes(unix.FAN_EVENT_INFO_TYPE_PIDFD, fsid, 0, nil, ""), // skipped
		fanRecordBytes(recNew, fsid, 1, []byte{2, 2, 2, 2}, "new"))...)
	evs, err := parseFanEvents(buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	if r := evs[0].recs; len(r) != 1 || r[0].kind != recName || r[0].name != "f" || r[0].fsid != fsid || len(r[0].hdl) != 8 || r[0].htype != 1 {
		t.Errorf("first event's records %+v", r)
	}
	if r := evs[1].recs; len(r) != 2 || r[0].name != "old" || r[1].name != "new" || r[0].key == r[1].key {
		t.Errorf("rename's records %+v", r)
	}
	if got := fanOp(evs[0].mask, recName); got != Create|CloseWrite {
		t.Errorf("op %v, want CREATE|CLOSE_WRITE", got)
	}
	if _, err := parseFanEvents(buf[:len(buf)-3], nil); err == nil {
		t.Error("a truncated event parsed without an error")
	}
}

// The root renamed away or removed with a directory above it: the tree
// says its root is gone.
func TestFanotifyRootGoneWithAncestor(t *testing.T) {
	parent := t.TempDir()
	mkdirs(t, parent, "x/root/a", "y/root/b")
	f := newFanotify(t)
	moved := fanWatcher(t, f, Options{Root: filepath.Join(parent, "x/root"), Trigger: allFileOps})
	removed := fanWatcher(t, f, Options{Root: filepath.Join(parent, "y/root"), Trigger: allFileOps})
	rm, rr := run(t, moved), run(t, removed)
	if err := os.Rename(filepath.Join(parent, "x"), filepath.Join(parent, "x2")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "RENAME of the root moved with its parent", func() bool {
		return rm.has(Change{Rel: "", Op: Rename, IsDir: true})
	})
	if err := os.RemoveAll(filepath.Join(parent, "y")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "REMOVE of the root removed with its parent", func() bool {
		return rr.has(Change{Rel: "", Op: Remove, IsDir: true})
	})
	if !moved.RootLost() || !removed.RootLost() {
		t.Errorf("RootLost: moved %v, removed %v; want both", moved.RootLost(), removed.RootLost())
	}
}

// A tree with a filesystem mounted inside it is refused, saying so: the
// mark would not report what happens there.
func TestFanotifyMountInsideRefused(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "sub")
	mountTmpfs(t, filepath.Join(root, "sub"))
	lg, _ := testLogger(t)
	_, err := New(Options{Root: root, Trigger: allFileOps, Fanotify: newFanotify(t), Logger: lg})
	if err == nil || !strings.Contains(err.Error(), "mounted inside it") || !strings.Contains(err.Error(), `watcher = "inotify"`) {
		t.Errorf("New: %v; want a refusal naming the mount and the way out", err)
	}
}

// A filesystem unmounted and another mounted in its place while a second
// tree on it is still in the group: the tree watched anew gets events.
func TestFanotifyRemounted(t *testing.T) {
	mnt := t.TempDir()
	mountTmpfs(t, mnt)
	mkdirs(t, mnt, "a", "b")
	f := newFanotify(t)
	a := fanWatcher(t, f, Options{Root: filepath.Join(mnt, "a"), Trigger: allFileOps})
	b := fanWatcher(t, f, Options{Root: filepath.Join(mnt, "b"), Trigger: allFileOps})
	_, stopA := runUntil(t, a)
	run(t, b)
	if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v: %s", err, out)
	}
	mountTmpfs(t, mnt)
	mkdirs(t, mnt, "a", "b")
	stopA()
	r := run(t, fanWatcher(t, f, Options{Root: filepath.Join(mnt, "a"), Trigger: allFileOps}))
	writeFile(t, filepath.Join(mnt, "a/new"))
	testutil.Eventually(t, 5*time.Second, "CREATE new in the tree on the new filesystem", func() bool { return changed(r, "new", Create) })
}

// An op outside Trigger is reported quiet, to ride with the next batch;
// directory bookkeeping is reported whatever Trigger says.
func TestFanotifyTriggerMask(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "f"))
	r := run(t, fanWatcher(t, newFanotify(t), Options{Root: root, Trigger: Chmod}))
	mkdirs(t, root, "x/y")
	testutil.Eventually(t, 5*time.Second, "CREATE x (dir)", func() bool { return r.has(Change{Rel: "x", Op: Create, IsDir: true}) })
	writeFile(t, filepath.Join(root, "x/y/g"))
	if err := os.Chmod(filepath.Join(root, "f"), 0o600); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "CHMOD f", func() bool { return r.has(Change{Rel: "f", Op: Chmod}) })
	testutil.Eventually(t, 5*time.Second, "x/y/g quiet", func() bool {
		return r.any(func(c Change) bool { return c.Rel == "x/y/g" && c.Quiet })
	})
	if r.any(func(c Change) bool { return c.Rel == "x/y/g" && !c.Quiet }) {
		t.Errorf("a file op outside Trigger started a sync: %v", r.changes())
	}
	if err := os.Rename(filepath.Join(root, "x"), filepath.Join(root, "z")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "RENAME x, CREATE z (dirs)", func() bool {
		return r.has(Change{Rel: "x", Op: Rename, IsDir: true}) && r.has(Change{Rel: "z", Op: Create, IsDir: true, From: "x"})
	})
	if err := os.RemoveAll(filepath.Join(root, "z")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "REMOVE z (dir)", func() bool { return r.has(Change{Rel: "z", Op: Remove, IsDir: true}) })
}

// A symlink to a directory is a file: reported as one, never followed.
func TestFanotifySymlinkToDirNotFollowed(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	r := run(t, fanWatcher(t, newFanotify(t), Options{Root: root, Trigger: allFileOps}))
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(outside, "beyond"))
	writeFile(t, filepath.Join(root, "marker"))
	testutil.Eventually(t, 5*time.Second, "CREATE marker", func() bool { return changed(r, "marker", Create) })
	if !r.has(Change{Rel: "link", Op: Create}) {
		t.Errorf("the symlink is not reported as a file: %v", r.changes())
	}
	if r.any(func(c Change) bool { return strings.Contains(c.Rel, "beyond") }) {
		t.Errorf("a write behind the symlink was reported: %v", r.changes())
	}
}

// A group's reader pauses only between small reads that come in a
// stream.
func TestReadPacer(t *testing.T) {
	p := &readPacer{timer: time.NewTimer(time.Hour)}
	closed := make(chan struct{})
	close(closed)
	now := time.Now()
	if !p.wait(10, now, closed) {
		t.Error("the first read paused")
	}
	if !p.wait(fanReadBuf, now.Add(time.Millisecond), closed) {
		t.Error("a read that filled the buffer paused")
	}
	if !p.wait(10, now.Add(time.Second), closed) {
		t.Error("a read after a quiet spell paused")
	}
	start := time.Now()
	if !p.wait(10, now.Add(time.Second+time.Millisecond), make(chan struct{})) || time.Since(start) < fanReadPause {
		t.Errorf("a small read in a stream did not pause for %v (%v)", fanReadPause, time.Since(start))
	}
	// In a steady stream every read pauses, the one right after a pause
	// included (it returns at once, more than fanReadPause after the
	// read before it).
	q := &readPacer{timer: time.NewTimer(time.Hour)}
	open := make(chan struct{})
	q.wait(10, time.Now(), open)
	q.wait(10, time.Now(), open) // pauses
	start = time.Now()
	if !q.wait(10, time.Now(), open) || time.Since(start) < fanReadPause {
		t.Errorf("the read after a pause did not pause (%v)", time.Since(start))
	}
}
