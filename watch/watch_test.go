package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inosync/inosync/watch/inotifytest"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

// testLogger logs at Debug into a buffer that is shown if the test fails.
func testLogger(t *testing.T) (zerolog.Logger, *testutil.LockedBuffer) {
	buf := &testutil.LockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf)
		}
	})
	return zerolog.New(buf).Level(zerolog.DebugLevel), buf
}

func mkdirs(t *testing.T, root string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	writeFileBytes(t, path, []byte("x"))
}

func writeFileBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

const allFileOps = Create | Write | Remove | Rename

// newWatcher makes a Watcher for root with a test logger.
func newWatcher(t *testing.T, opts Options) *Watcher {
	t.Helper()
	if e := opts.Logger.Debug(); !e.Enabled() { // no logger given
		opts.Logger, _ = testLogger(t)
	} else {
		e.Discard()
	}
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// recorder runs a Watcher and keeps what it sends.
type recorder struct {
	mu  sync.Mutex
	got []Change
}

func (r *recorder) changes() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// has reports whether c was sent.
func (r *recorder) has(c Change) bool { return slices.Contains(r.changes(), c) }

// any reports whether some change matches.
func (r *recorder) any(match func(Change) bool) bool { return slices.ContainsFunc(r.changes(), match) }

// covered reports whether some change makes the consumer sync rel: the
// path itself, or a directory above it synced recursively.
func (r *recorder) covered(rel string) bool {
	return r.any(func(c Change) bool {
		if c.Rel == rel {
			return true
		}
		return c.IsDir && c.Op&recursiveOps != 0 && (c.Rel == "" || strings.HasPrefix(rel, c.Rel+"/"))
	})
}

// run runs w until the test ends, keeping what it sends.
func run(t *testing.T, w *Watcher) *recorder {
	t.Helper()
	r, _ := runUntil(t, w)
	return r
}

// watched returns the watch list as fsnotify has it, relative to the root
// ("." for the root), sorted; the instance's marker is left out.
func watched(w *Watcher) []string {
	var rels []string
	for _, p := range w.in.fsw.Load().WatchList() {
		if p == w.in.marker.path {
			continue
		}
		rel, ok := w.relOf(p)
		if !ok {
			rel = "OUTSIDE:" + p
		} else if rel == "" {
			rel = "."
		}
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	return rels
}

func TestNewWatchesEveryDir(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "a/b/c", "d", "skip/x", "a/skip/y")
	writeFile(t, filepath.Join(root, "a/f"))
	if err := os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	var asked []string
	w := newWatcher(t, Options{
		Root: root + "/./", // unnormalised, trailing slash
		Exclude: func(rel string, isDir bool) bool {
			asked = append(asked, rel)
			return filepath.Base(rel) == "skip"
		},
	})
	t.Cleanup(func() { _ = w.in.fsw.Load().Close() })
	if got, want := w.Watches(), 5; got != want {
		t.Errorf("Watches() = %d, want %d", got, want)
	}
	if got, want := watched(w), []string{".", "a", "a/b", "a/b/c", "d"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	slices.Sort(asked)
	if want := []string{"a", "a/b", "a/b/c", "a/skip", "d", "skip"}; !slices.Equal(asked, want) {
		t.Errorf("Exclude asked about %q, want %q", asked, want)
	}
}

func TestNewErrors(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "file"))
	for _, tc := range []struct{ root, want string }{
		{filepath.Join(root, "nope"), "watch " + filepath.Join(root, "nope") + ": stat " + filepath.Join(root, "nope") + ": no such file or directory"},
		{filepath.Join(root, "file"), "watch " + filepath.Join(root, "file") + ": not a directory"},
		{"", "watch: no root directory given"},
	} {
		_, err := New(Options{Root: tc.root})
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%q) error = %v, want %q", tc.root, err, tc.want)
		}
	}
}

func TestLimitErrors(t *testing.T) {
	read := func(name string) (int, error) {
		if name == "max_user_watches" {
			return 8192, nil
		}
		return 128, nil
	}
	err := addError("/srv/www/a", syscall.ENOSPC, read)
	want := "watch /srv/www/a: inotify watch limit reached (fs.inotify.max_user_watches=8192): raise it, e.g. sysctl -w fs.inotify.max_user_watches=16384"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Error("ENOSPC not wrapped")
	}
	noRead := func(string) (int, error) { return 0, os.ErrNotExist }
	err = addError("/d", syscall.ENOSPC, noRead)
	want = "watch /d: inotify watch limit reached (fs.inotify.max_user_watches): raise it with sysctl -w fs.inotify.max_user_watches=N"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
	err = initError("/d", fmt.Errorf("couldn't initialize inotify: %w", syscall.EMFILE), read)
	want = "watch /d: inotify instance limit reached (fs.inotify.max_user_instances=128): raise it, e.g. sysctl -w fs.inotify.max_user_instances=256 (or raise the open-file limit, ulimit -n, if that is what ran out)"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
	if !errors.Is(err, syscall.EMFILE) {
		t.Error("EMFILE not wrapped")
	}
	if err := addError("/d", syscall.EACCES, read); err.Error() != "watch /d: permission denied" {
		t.Errorf("got %q", err)
	}
}

func TestRunFiles(t *testing.T) {
	root := t.TempDir()
	w := newWatcher(t, Options{Root: root + "/", Trigger: allFileOps})
	r := run(t, w)
	f := filepath.Join(root, "f")
	writeFile(t, f)
	testutil.Eventually(t, 5*time.Second, "CREATE f", func() bool { return r.has(Change{Rel: "f", Op: Create}) })
	testutil.Eventually(t, 5*time.Second, "WRITE f", func() bool { return r.has(Change{Rel: "f", Op: Write}) })
	if err := os.Rename(f, filepath.Join(root, "g")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "RENAME f", func() bool { return r.has(Change{Rel: "f", Op: Rename}) })
	testutil.Eventually(t, 5*time.Second, "CREATE g, renamed from f", func() bool { return r.has(Change{Rel: "g", Op: Create, From: "f"}) })
	if err := os.Remove(filepath.Join(root, "g")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "REMOVE g", func() bool { return r.has(Change{Rel: "g", Op: Remove}) })
}

// mkdir -p and an immediate write: the file is covered, however the race
// between the kernel and our walk goes.
func TestRunMkdirP(t *testing.T) {
	root := t.TempDir()
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps})
	r := run(t, w)
	for i := range 20 {
		top := fmt.Sprintf("a%d", i)
		mkdirs(t, root, top+"/b/c")
		writeFile(t, filepath.Join(root, top, "b/c/f"))
		testutil.Eventually(t, 5*time.Second, top+"/b/c/f covered", func() bool { return r.covered(top + "/b/c/f") })
		testutil.Eventually(t, 5*time.Second, top+"/b/c watched", func() bool {
			return slices.Contains(watched(w), top+"/b/c")
		})
	}
	if got, want := w.Watches(), 1+20*3; got != want {
		t.Errorf("Watches() = %d, want %d", got, want)
	}
	// Later writes in the new dirs come from their own watches.
	writeFile(t, filepath.Join(root, "a7/b/c/late"))
	testutil.Eventually(t, 5*time.Second, "CREATE a7/b/c/late", func() bool { return r.has(Change{Rel: "a7/b/c/late", Op: Create}) })
}

func TestRunRenameDir(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "d/s/t", "other")
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps})
	r := run(t, w)
	if err := os.Rename(filepath.Join(root, "d"), filepath.Join(root, "e")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "e/f"))
	writeFile(t, filepath.Join(root, "e/s/f"))
	for _, rel := range []string{"e/f", "e/s/f"} {
		testutil.Eventually(t, 5*time.Second, rel+" covered", func() bool { return r.covered(rel) })
	}
	testutil.Eventually(t, 5*time.Second, "RENAME d (dir)", func() bool { return r.has(Change{Rel: "d", Op: Rename, IsDir: true}) })
	want := []string{".", "e", "e/s", "e/s/t", "other"}
	testutil.Eventually(t, 5*time.Second, fmt.Sprintf("watches %q", want), func() bool { return slices.Equal(watched(w), want) })
	if got := w.Watches(); got != len(want) {
		t.Errorf("Watches() = %d, want %d", got, len(want))
	}

	// The watches now report the new names, not the old ones.
	writeFile(t, filepath.Join(root, "e/s/t/late"))
	testutil.Eventually(t, 5*time.Second, "CREATE e/s/t/late", func() bool { return r.has(Change{Rel: "e/s/t/late", Op: Create}) })
	if r.any(func(c Change) bool { return strings.HasPrefix(c.Rel, "d/s/t/late") }) {
		t.Errorf("stale path reported: %v", r.changes())
	}

	// Rename a subdir of the renamed dir, back and forth.
	if err := os.Rename(filepath.Join(root, "e/s"), filepath.Join(root, "other/s2")); err != nil {
		t.Fatal(err)
	}
	want = []string{".", "e", "other", "other/s2", "other/s2/t"}
	testutil.Eventually(t, 5*time.Second, fmt.Sprintf("watches %q", want), func() bool { return slices.Equal(watched(w), want) })
	writeFile(t, filepath.Join(root, "other/s2/t/x"))
	testutil.Eventually(t, 5*time.Second, "CREATE other/s2/t/x", func() bool { return r.has(Change{Rel: "other/s2/t/x", Op: Create}) })

	// The table (checked once Run is done) agrees.
	rw := w
	t.Cleanup(func() {
		rels := rw.dirs.all()
		slices.Sort(rels)
		if want := []string{"", "e", "other", "other/s2", "other/s2/t"}; !slices.Equal(rels, want) {
			t.Errorf("table %q, want %q", rels, want)
		}
	})
}

func TestRunRemoveDir(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "d/s/t", "keep")
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps})
	r := run(t, w)
	if err := os.RemoveAll(filepath.Join(root, "d")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "REMOVE d (dir)", func() bool { return r.has(Change{Rel: "d", Op: Remove, IsDir: true}) })
	testutil.Eventually(t, 5*time.Second, "2 watches", func() bool { return w.Watches() == 2 })
	if got, want := watched(w), []string{".", "keep"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
}

func TestRunMoveIn(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	mkdirs(t, outside, "m/sub")
	writeFile(t, filepath.Join(outside, "m/sub/old"))
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps})
	r := run(t, w)
	if err := os.Rename(filepath.Join(outside, "m"), filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "CREATE in (dir)", func() bool { return r.has(Change{Rel: "in", Op: Create, IsDir: true}) })
	want := []string{".", "in", "in/sub"}
	testutil.Eventually(t, 5*time.Second, fmt.Sprintf("watches %q", want), func() bool { return slices.Equal(watched(w), want) })
	writeFile(t, filepath.Join(root, "in/sub/new"))
	testutil.Eventually(t, 5*time.Second, "CREATE in/sub/new", func() bool { return r.has(Change{Rel: "in/sub/new", Op: Create}) })

	// And out again: a rename away, the watches dropped.
	if err := os.Rename(filepath.Join(root, "in"), filepath.Join(outside, "back")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "RENAME in (dir)", func() bool { return r.has(Change{Rel: "in", Op: Rename, IsDir: true}) })
	testutil.Eventually(t, 5*time.Second, "only the root watched", func() bool { return slices.Equal(watched(w), []string{"."}) })
}

func TestRunTriggerMask(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "f"))
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps}) // no Chmod
	r := run(t, w)
	if err := os.Chmod(filepath.Join(root, "f"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "marker")) // events come in order: once this is seen, the chmod was handled
	testutil.Eventually(t, 5*time.Second, "CREATE marker", func() bool { return r.has(Change{Rel: "marker", Op: Create}) })
	if r.any(func(c Change) bool { return c.Op&Chmod != 0 && !c.Quiet }) {
		t.Errorf("Chmod reported as a trigger without Chmod in Trigger: %v", r.changes())
	}
	if !r.has(Change{Rel: "f", Op: Chmod, Quiet: true}) {
		t.Errorf("the chmod is not reported as quiet, to ride with the next batch: %v", r.changes())
	}
}

func TestRunDirBookkeepingIgnoresTrigger(t *testing.T) {
	root := t.TempDir()
	w := newWatcher(t, Options{Root: root, Trigger: Chmod})
	r := run(t, w)
	mkdirs(t, root, "x/y")
	testutil.Eventually(t, 5*time.Second, "CREATE x (dir)", func() bool { return r.has(Change{Rel: "x", Op: Create, IsDir: true}) })
	testutil.Eventually(t, 5*time.Second, "x/y watched", func() bool { return w.Watches() == 3 })
	writeFile(t, filepath.Join(root, "x/y/f"))
	if err := os.Chmod(filepath.Join(root, "x/y/f"), 0o600); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "CHMOD x/y/f", func() bool { return r.has(Change{Rel: "x/y/f", Op: Chmod}) })
	if r.any(func(c Change) bool { return c.Rel == "x/y/f" && c.Op != Chmod && !c.Quiet }) {
		t.Errorf("file op outside Trigger reported as a trigger: %v", r.changes())
	}
	if err := os.Rename(filepath.Join(root, "x"), filepath.Join(root, "z")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "RENAME x (dir)", func() bool { return r.has(Change{Rel: "x", Op: Rename, IsDir: true}) })
	testutil.Eventually(t, 5*time.Second, "CREATE z (dir), renamed from x", func() bool {
		return r.has(Change{Rel: "z", Op: Create, IsDir: true, From: "x"})
	})
	if err := os.RemoveAll(filepath.Join(root, "z")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "REMOVE z (dir)", func() bool { return r.has(Change{Rel: "z", Op: Remove, IsDir: true}) })
	testutil.Eventually(t, 5*time.Second, "only the root watched", func() bool { return w.Watches() == 1 })
}

// skipAndTmp is the exclude of the exclusion tests: directories named
// skip, files ending in .tmp.
func skipAndTmp(rel string, isDir bool) bool {
	return filepath.Base(rel) == "skip" || (!isDir && strings.HasSuffix(rel, ".tmp"))
}

func TestRunExclude(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "skip", "a")
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps, Exclude: skipAndTmp})
	r := run(t, w)
	writeFile(t, filepath.Join(root, "skip/f"))
	writeFile(t, filepath.Join(root, "a/x.tmp"))
	mkdirs(t, root, "n/skip", "skip2")
	writeFile(t, filepath.Join(root, "n/skip/g"))
	testutil.Eventually(t, 5*time.Second, "CREATE n (dir)", func() bool { return r.has(Change{Rel: "n", Op: Create, IsDir: true}) })
	testutil.Eventually(t, 5*time.Second, "CREATE skip2 (dir)", func() bool { return r.has(Change{Rel: "skip2", Op: Create, IsDir: true}) })
	writeFile(t, filepath.Join(root, "a/marker"))
	testutil.Eventually(t, 5*time.Second, "CREATE a/marker", func() bool { return r.has(Change{Rel: "a/marker", Op: Create}) })
	if r.any(func(c Change) bool {
		return strings.HasSuffix(c.Rel, ".tmp") || c.Rel == "skip" || strings.Contains(c.Rel, "skip/")
	}) {
		t.Errorf("excluded path reported: %v", r.changes())
	}
	if got, want := watched(w), []string{".", "a", "n", "skip2"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
}

// A directory left out by a rule for directories only is never watched, so
// when it is removed or renamed away the table cannot say it was one: the
// change is dropped, not reported as a file (a list run naming it would
// delete the node's copy, which the rule keeps).
func TestRunExcludedDirGone(t *testing.T) {
	root, away := t.TempDir(), t.TempDir()
	mkdirs(t, root, "a/cache", "b/cache")
	writeFile(t, filepath.Join(root, "a/cache/f"))
	cacheDirs := func(rel string, isDir bool) bool { return isDir && filepath.Base(rel) == "cache" }
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps, Exclude: cacheDirs})
	r := run(t, w)
	if err := os.RemoveAll(filepath.Join(root, "a/cache")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "b/cache"), filepath.Join(away, "cache")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "a/marker"))
	testutil.Eventually(t, 5*time.Second, "CREATE a/marker", func() bool { return r.has(Change{Rel: "a/marker", Op: Create}) })
	if r.any(func(c Change) bool { return strings.HasSuffix(c.Rel, "cache") }) {
		t.Errorf("a directory left out was reported gone: %v", r.changes())
	}
}

func TestRunSymlinkToDirNotFollowed(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "target/sub")
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps})
	r := run(t, w)
	if err := os.Symlink("target", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "CREATE link (not a dir)", func() bool { return r.has(Change{Rel: "link", Op: Create}) })
	if got, want := watched(w), []string{".", "target", "target/sub"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
}

func TestRunRootRemoved(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	mkdirs(t, parent, "root/a/b")
	lg, logs := testLogger(t)
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps, Logger: lg})
	r := run(t, w)
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "REMOVE root", func() bool { return r.has(Change{Rel: "", Op: Remove, IsDir: true}) })
	if !strings.Contains(logs.String(), `"level":"error","path":"`+root+`","op":"REMOVE","message":"watched directory disappeared"`) {
		t.Errorf("no error logged; log:\n%s", logs)
	}
	testutil.Eventually(t, 5*time.Second, "no watches", func() bool { return w.Watches() == 0 })
}

func TestRunDebugLog(t *testing.T) {
	root := t.TempDir()
	lg, logs := testLogger(t)
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps, Logger: lg})
	r := run(t, w)
	writeFile(t, filepath.Join(root, "f"))
	testutil.Eventually(t, 5*time.Second, "CREATE f", func() bool { return r.has(Change{Rel: "f", Op: Create}) })
	want := `{"level":"debug","path":"` + root + `","rel":"f","op":"CREATE","message":"event"}`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %s:\n%s", want, logs)
	}
}

func TestRunOverflow(t *testing.T) {
	restore := inotifytest.LowerQueue(t, 64)
	root := t.TempDir()
	mkdirs(t, root, "a/b", "c")
	lg, logs := testLogger(t)
	w, err := New(Options{Root: root, Trigger: allFileOps, Logger: lg}) // the limit applies to instances made from now
	restore()
	if err != nil {
		t.Fatal(err)
	}
	overflow(t, filepath.Join(root, "a"))
	// A directory made while events are lost is watched by the resync.
	mkdirs(t, root, "c/new")
	r := run(t, w)
	testutil.Eventually(t, 10*time.Second, "the root reported after the overflow", func() bool {
		return r.has(Change{Rel: "", Op: Create, IsDir: true})
	})
	if !strings.Contains(logs.String(), `"level":"warn","path":"`+root+`","message":"inotify queue overflowed; resyncing the whole tree"`) {
		t.Errorf("no overflow warning in the log")
	}
	want := []string{".", "a", "a/b", "c", "c/new"}
	testutil.Eventually(t, 5*time.Second, fmt.Sprintf("watches %q", want), func() bool { return slices.Equal(watched(w), want) })
	if got := w.Watches(); got != len(want) {
		t.Errorf("Watches() = %d, want %d", got, len(want))
	}
	writeFile(t, filepath.Join(root, "c/new/after"))
	testutil.Eventually(t, 5*time.Second, "CREATE c/new/after", func() bool { return r.has(Change{Rel: "c/new/after", Op: Create}) })
}

// A resync after an overflow that cannot watch the root (it was moved
// away meanwhile) would leave nothing watched and nothing to start a sync
// ever again: Run stops with the reason.
func TestRunResyncWithoutRoot(t *testing.T) {
	restore := inotifytest.LowerQueue(t, 64)
	parent := t.TempDir()
	root := filepath.Join(parent, "p", "root")
	mkdirs(t, parent, "p/root/a")
	lg, _ := testLogger(t)
	w, err := New(Options{Root: root, Trigger: allFileOps, Logger: lg})
	restore()
	if err != nil {
		t.Fatal(err)
	}
	overflow(t, filepath.Join(root, "a"))
	if err := os.Rename(filepath.Join(parent, "p"), filepath.Join(parent, "q")); err != nil {
		t.Fatal(err)
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
		want := "watch " + root + ": cannot watch the root again after the overflow: "
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Run: %v, want an error starting %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still going 10 s after an overflow it cannot resync")
	}
	close(out)
}

// BenchmarkNew20k measures New on a tree of 20,001 directories (200 × 99
// nested, as in LIBRARIES.md).
func BenchmarkNew20k(b *testing.B) {
	root := b.TempDir()
	for i := range 200 {
		p := filepath.Join(root, fmt.Sprintf("t%03d", i))
		for range 99 {
			p = filepath.Join(p, "d")
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		w, err := New(Options{Root: root})
		if err != nil {
			b.Fatal(err)
		}
		if w.Watches() != 20001 {
			b.Fatalf("%d watches", w.Watches())
		}
		b.StopTimer()
		_ = w.in.fsw.Load().Close()
		b.StartTimer()
	}
}

func TestRunTwice(t *testing.T) {
	w := newWatcher(t, Options{Root: t.TempDir()})
	run(t, w)
	testutil.Eventually(t, 5*time.Second, "Run started", w.running.Load)
	err := w.Run(context.Background(), make(chan Change))
	if want := "watch " + w.root + ": Run called twice"; err == nil || err.Error() != want {
		t.Fatalf("second Run = %v, want %q", err, want)
	}
}

// The two stages together: mkdir -p and a write come out as a batch
// that covers the file.
func TestWatchThenCoalesce(t *testing.T) {
	root := t.TempDir()
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps})
	changes, batches := make(chan Change), make(chan Batch)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, changes) }()
	go Coalesce(ctx, changes, batches, CoalesceOptions{})
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
		close(changes)      // the producer closes in once it has stopped
		for range batches { // until Coalesce closes it
		}
	})
	mkdirs(t, root, "a/b/c")
	writeFile(t, filepath.Join(root, "a/b/c/f"))
	covered := func(b Batch) bool {
		return b.Full || slices.ContainsFunc(b.Paths, func(p string) bool {
			return p == "a/b/c/f" || (strings.HasSuffix(p, "/") && strings.HasPrefix("a/b/c/f", p))
		})
	}
	for deadline := time.After(5 * time.Second); ; {
		select {
		case b := <-batches:
			if covered(b) {
				return
			}
		case <-deadline:
			t.Fatal("no batch covering a/b/c/f within 5s")
		}
	}
}

// Enough directories for the table's chunks to split (names that sort
// around '/'), then a subtree that spans chunks renamed away and one
// removed: the watches and the table agree with the tree every time.
func TestRunManyDirsRenameAndRemoveSubtrees(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for _, top := range []string{"a", "a-b", "a.b", "b"} {
		for i := range 150 {
			dirs = append(dirs, fmt.Sprintf("%s/%03d/x", top, i))
		}
	}
	mkdirs(t, root, dirs...)
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps})
	want := func() []string {
		var out []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	if got := watched(w); !slices.Equal(got, want()) {
		t.Fatalf("after New: %d watches, want %d", len(got), len(want()))
	}
	if n := len(w.dirs.chunks); n < 4 {
		t.Fatalf("table in %d chunks: the test does not reach splitting", n)
	}
	r := run(t, w)
	if err := os.Rename(filepath.Join(root, "a"), filepath.Join(root, "c")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "a.b")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "RENAME a and REMOVE a.b", func() bool {
		return r.has(Change{Rel: "a", Op: Rename, IsDir: true}) && r.any(func(c Change) bool { return c.Rel == "a.b" && c.IsDir })
	})
	testutil.Eventually(t, 10*time.Second, "watches equal to the tree", func() bool { return slices.Equal(watched(w), want()) })
	testutil.Eventually(t, 10*time.Second, "Watches() equal to the tree", func() bool { return w.Watches() == len(want()) })
}

// overflow makes enough events in dir, while nobody reads them, that
// fsnotify's buffer (4096) fills and then a kernel queue lowered to 64
// overflows: 2,000 files of 3 events each (CREATE, WRITE, CHMOD).
func overflow(t *testing.T, dir string) {
	t.Helper()
	for i := range 2000 {
		p := filepath.Join(dir, fmt.Sprintf("f%04d", i))
		writeFile(t, p)
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// fsnotify pairs a rename's halves by their cookie and shows the pairing
// only in Event.String: renamedFrom reads it back from the real library,
// names with quotes, arrows and newlines included. If a new fsnotify
// prints it otherwise, this fails (and renames are sent again).
func TestRenamedFromFsnotify(t *testing.T) {
	root := t.TempDir()
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	if err := fw.Add(root); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct{ from, to string }{
		{"f", "g"},
		{`we"ird ← x`, "new ← \"y\n"},
		{"dir", "other dir"},
	} {
		from, to := filepath.Join(root, c.from), filepath.Join(root, c.to)
		if c.from == "dir" {
			mkdirs(t, root, c.from)
		} else {
			writeFile(t, from)
		}
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
		got := ""
		for got == "" {
			select {
			case ev := <-fw.Events:
				if ev.Name == to && ev.Has(fsnotify.Create) {
					got = renamedFrom(ev)
					if got == "" {
						t.Fatalf("case %d: no old name read from %q", i, ev.String())
					}
				}
			case err := <-fw.Errors:
				t.Fatal(err)
			case <-time.After(5 * time.Second):
				t.Fatalf("case %d: no CREATE of %q", i, to)
			}
		}
		if got != from {
			t.Errorf("case %d: renamedFrom = %q, want %q", i, got, from)
		}
	}
	if got := renamedFrom(fsnotify.Event{Name: "/x/y", Op: fsnotify.Create}); got != "" {
		t.Errorf("an unpaired CREATE gave %q", got)
	}
	if got := renamedFrom(fsnotify.Event{Name: "/x/y", Op: fsnotify.Rename}); got != "" {
		t.Errorf("a RENAME gave %q", got)
	}
}
