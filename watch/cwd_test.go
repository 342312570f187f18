package watch

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
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
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps, RelativePaths: true})
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
	mkdirs(t, root, "c/new/deep")
	writeFile(t, filepath.Join(root, "c/new/deep/f"))
	eventually(t, 5*time.Second, "CREATE c/new/deep/f", func() bool { return r.covered("c/new/deep/f") })
	want := []string{".", "a", "a/b", "c", "c/new", "c/new/deep"}
	eventually(t, 5*time.Second, "c/new/deep watched", func() bool { return slices.Equal(watched(w), want) })
	writeFile(t, filepath.Join(root, "c/new/deep/g"))
	eventually(t, 5*time.Second, "CREATE c/new/deep/g", func() bool { return r.has(Change{Rel: "c/new/deep/g", Op: Create}) })
	if got := cwd(); got != before {
		t.Errorf("working directory %q after a walk, want %q", got, before)
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

func TestRelativePathsShownAbsolute(t *testing.T) {
	w := &Watcher{root: "/srv/www", top: "."}
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
	abs := &Watcher{root: "/srv/www", top: "/srv/www"}
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
