package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inosync/inosync/watch/inotifytest"
)

// With RelativePaths fsnotify keeps paths relative to the root, and the
// working directory is lent for each walk only.
func TestRelativePathsKeptRelative(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "a/b", "c")
	before, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// Exclude is asked about every directory a walk finds, while the walk
	// has the working directory: CwdLock must be held then.
	var lock sync.RWMutex
	var mu sync.Mutex
	var asked, unlocked []string
	exclude := func(rel string, isDir bool) bool {
		if isDir {
			mu.Lock()
			asked = append(asked, rel)
			if lock.TryRLock() {
				lock.RUnlock()
				unlocked = append(unlocked, rel)
			}
			mu.Unlock()
		}
		return false
	}
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps, RelativePaths: true, CwdLock: &lock, Exclude: exclude})
	list := w.fsw.Load().WatchList()
	slices.Sort(list)
	if want := []string{".", "a", "a/b", "c"}; !slices.Equal(list, want) {
		t.Errorf("fsnotify keeps %q, want %q", list, want)
	}
	cwd := func() string {
		d, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if got := cwd(); got != before {
		t.Errorf("working directory %q after New, want %q", got, before)
	}
	r := run(t, w)
	// A tree moved in: one event (c/new, asked about by the event's
	// handling, outside a walk), then a walk that finds c/new/deep.
	outside := t.TempDir()
	mkdirs(t, outside, "new/deep")
	writeFile(t, filepath.Join(outside, "new/deep/f"))
	if err := os.Rename(filepath.Join(outside, "new"), filepath.Join(root, "c/new")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "c/new moved in", func() bool { return r.covered("c/new/deep/f") })
	want := []string{".", "a", "a/b", "c", "c/new", "c/new/deep"}
	eventually(t, 5*time.Second, "c/new/deep watched", func() bool { return slices.Equal(watched(w), want) })
	writeFile(t, filepath.Join(root, "c/new/deep/g"))
	eventually(t, 5*time.Second, "CREATE c/new/deep/g", func() bool { return r.has(Change{Rel: "c/new/deep/g", Op: Create}) })
	if got := cwd(); got != before {
		t.Errorf("working directory %q after a walk, want %q", got, before)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) < 5 { // a, a/b, c by New; c/new (an event, then its walk), c/new/deep
		t.Errorf("Exclude asked about %q only", asked)
	}
	for _, rel := range unlocked {
		if rel != "c/new" { // c/new's event is handled before its walk
			t.Errorf("%s: asked during a walk without CwdLock held (all asked: %q)", rel, asked)
		}
	}
	if !lock.TryLock() {
		t.Error("CwdLock still held after the walks")
	} else {
		lock.Unlock()
	}
}

// A root whose path now leads to another directory (a directory above it
// was renamed, which the root's watch does not see, and a new one made in
// its place) is not walked as if it were the old one: the walk of a
// directory made in the old tree says so in the log, and nothing of the
// new directory is watched.
func TestRelativePathsReplacedRoot(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "p", "root")
	mkdirs(t, parent, "p/root/a")
	lg, logs := testLogger(t)
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps, Logger: lg, RelativePaths: true})
	r := run(t, w)
	if err := os.Rename(filepath.Join(parent, "p"), filepath.Join(parent, "q")); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, parent, "p/root/intruder", "p/root/made")
	writeFile(t, filepath.Join(parent, "q/root/a/f"))
	eventually(t, 5*time.Second, "CREATE a/f", func() bool { return r.has(Change{Rel: "a/f", Op: Create}) })
	mkdirs(t, parent, "q/root/made") // the lstat by absolute path finds p/root/made
	eventually(t, 5*time.Second, "the walk refused", func() bool {
		return strings.Contains(logs.String(), root+" is no longer the directory that was watched")
	})
	if got, want := watched(w), []string{".", "a"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
}

// A resync after an overflow that cannot enter the root (its path now
// leads to another directory) would leave nothing watched and nothing to
// start a sync ever again: Run stops with the reason.
func TestRelativePathsResyncCannotEnter(t *testing.T) {
	restore := inotifytest.LowerQueue(t, 64)
	parent := t.TempDir()
	root := filepath.Join(parent, "p", "root")
	mkdirs(t, parent, "p/root/a")
	lg, _ := testLogger(t)
	w, err := New(Options{Root: root, Trigger: allFileOps, Logger: lg, RelativePaths: true})
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(parent, "p"), filepath.Join(parent, "q")); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, parent, "p/root")
	// Nobody reads events yet: fsnotify's buffer (4096) fills, then the
	// kernel queue (64) overflows. 3 events a file: CREATE, WRITE, CHMOD.
	for i := range 2000 {
		p := filepath.Join(parent, "q/root/a", fmt.Sprintf("f%04d", i))
		writeFile(t, p)
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := make(chan Change)
	go func() {
		for range out {
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- w.Run(context.Background(), out) }()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), root+" is no longer the directory that was watched") {
			t.Errorf("Run: %v, want the root's replacement", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still going 10 s after an overflow it cannot resync")
	}
	close(out)
}

func TestRelativePathsShownAbsolute(t *testing.T) {
	w := &Watcher{root: "/srv/www", cwd: &cwdSwitch{root: "/srv/www", back: -1}}
	if got := w.shown("d0/d1"); got != "/srv/www/d0/d1" {
		t.Errorf("shown(d0/d1) = %q", got)
	}
	if got := w.shown("."); got != "/srv/www" {
		t.Errorf("shown(.) = %q", got)
	}
	err := w.shownErr(&os.PathError{Op: "open", Path: "d0/d1", Err: syscall.EACCES})
	if got, want := err.Error(), "open /srv/www/d0/d1: permission denied"; got != want {
		t.Errorf("shownErr = %q, want %q", got, want)
	}
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("shownErr lost the errno: %v", err)
	}
	abs := &Watcher{root: "/srv/www"}
	if got := abs.shown("/srv/www/d0"); got != "/srv/www/d0" {
		t.Errorf("absolute mode: shown = %q", got)
	}
	for name, want := range map[string]string{".": "", "./f": "f", "d0/f": "d0/f"} {
		if got, ok := w.relOf(name); !ok || got != want {
			t.Errorf("relOf(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"/etc/passwd", "..", "../x", ""} {
		if got, ok := w.relOf(name); ok {
			t.Errorf("relOf(%q) = %q, true; want not ok", name, got)
		}
	}
}
