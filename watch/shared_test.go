package watch

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
	"github.com/inosync/inosync/watch/inotifytest"
	"golang.org/x/sys/unix"
)

// newShared returns a Shared that ends with the test.
func newShared(t *testing.T) *Shared {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	lg, _ := testLogger(t)
	return NewShared(ctx, SharedOptions{Logger: lg})
}

// ownWatches returns the watch list of w's instance that is w's,
// relative to its root ("." for the root), sorted.
func ownWatches(w *Watcher) []string {
	var rels []string
	for _, p := range w.in.fsw.Load().WatchList() {
		if rel, ok := w.relOf(p); ok {
			if rel == "" {
				rel = "."
			}
			rels = append(rels, rel)
		}
	}
	slices.Sort(rels)
	return rels
}

// runUntil runs w until the returned stop is called; stop waits for Run
// to return and fails the test on its error.
func runUntil(t *testing.T, w *Watcher) (*recorder, func()) {
	t.Helper()
	r := &recorder{}
	out := make(chan Change)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, out) }()
	go func() {
		for c := range out {
			r.mu.Lock()
			r.got = append(r.got, c)
			r.mu.Unlock()
		}
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
		close(out)
	}
	t.Cleanup(stop)
	return r, stop
}

// Trees side by side share one inotify instance, and each gets the
// changes of its own tree only, relative to its own root.
func TestSharedTreesOwnEvents(t *testing.T) {
	base := t.TempDir()
	before := testutil.InotifyInstances(t)
	s := newShared(t)
	var ws []*Watcher
	var rs []*recorder
	for i := range 3 {
		root := filepath.Join(base, fmt.Sprintf("t%d", i))
		mkdirs(t, root, "d")
		w := newWatcher(t, Options{Root: root, Trigger: allFileOps, Shared: s})
		r, _ := runUntil(t, w)
		ws, rs = append(ws, w), append(rs, r)
	}
	if n := s.Instances(); n != 1 {
		t.Errorf("Instances() = %d, want 1", n)
	}
	if n := testutil.InotifyInstances(t) - before; n != 1 {
		t.Errorf("%d inotify instances opened for 3 trees, want 1", n)
	}
	for i := range 3 {
		writeFile(t, filepath.Join(base, fmt.Sprintf("t%d/d/f%d", i, i)))
	}
	for i, r := range rs {
		rel := fmt.Sprintf("d/f%d", i)
		testutil.Eventually(t, 5*time.Second, fmt.Sprintf("tree %d: CREATE %s", i, rel), func() bool { return r.has(Change{Rel: rel, Op: Create}) })
	}
	// Every event of the last write has arrived once its Write has.
	testutil.Eventually(t, 5*time.Second, "tree 2: WRITE d/f2", func() bool { return rs[2].has(Change{Rel: "d/f2", Op: Write}) })
	for i, r := range rs {
		for _, c := range r.changes() {
			if c.Rel != fmt.Sprintf("d/f%d", i) {
				t.Errorf("tree %d got %+v, a change of another tree", i, c)
			}
		}
		if got, want := ownWatches(ws[i]), []string{".", "d"}; !slices.Equal(got, want) {
			t.Errorf("tree %d watches %q, want %q", i, got, want)
		}
	}
}

// A directory moved from one tree to another in the same instance is
// unwatched in the first and watched under its new name in the second:
// later writes in it are the second tree's.
func TestSharedDirMovedBetweenTrees(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	mkdirs(t, a, "d/s")
	mkdirs(t, b, "")
	s := newShared(t)
	wa := newWatcher(t, Options{Root: a, Trigger: allFileOps, Shared: s})
	wb := newWatcher(t, Options{Root: b, Trigger: allFileOps, Shared: s})
	ra, _ := runUntil(t, wa)
	rb, _ := runUntil(t, wb)
	if err := os.Rename(filepath.Join(a, "d"), filepath.Join(b, "d")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "a: RENAME d (dir)", func() bool { return ra.has(Change{Rel: "d", Op: Rename, IsDir: true}) })
	testutil.Eventually(t, 5*time.Second, "b: CREATE d (dir)", func() bool { return rb.has(Change{Rel: "d", Op: Create, IsDir: true}) })
	writeFile(t, filepath.Join(b, "d/s/late"))
	testutil.Eventually(t, 5*time.Second, "b: CREATE d/s/late", func() bool { return rb.has(Change{Rel: "d/s/late", Op: Create}) })
	if ra.any(func(c Change) bool { return strings.HasSuffix(c.Rel, "late") }) {
		t.Errorf("tree a got a change of a directory it no longer has: %v", ra.changes())
	}
	if got, want := ownWatches(wa), []string{"."}; !slices.Equal(got, want) {
		t.Errorf("a watches %q, want %q", got, want)
	}
	if got, want := ownWatches(wb), []string{".", "d", "d/s"}; !slices.Equal(got, want) {
		t.Errorf("b watches %q, want %q", got, want)
	}
}

// Trees that nest, by their paths or through a symlink, get instances of
// their own; a tree beside them joins the first.
func TestSharedNestedTreesApart(t *testing.T) {
	base := t.TempDir()
	outer, inner, beside := filepath.Join(base, "outer"), filepath.Join(base, "outer/inner"), filepath.Join(base, "beside")
	mkdirs(t, outer, "inner/d")
	mkdirs(t, beside, "")
	link := filepath.Join(base, "link")
	if err := os.Symlink(inner, link); err != nil {
		t.Fatal(err)
	}
	s := newShared(t)
	wo := newWatcher(t, Options{Root: outer, Trigger: allFileOps, Shared: s})
	wi := newWatcher(t, Options{Root: inner, Trigger: allFileOps, Shared: s})
	wl := newWatcher(t, Options{Root: link, Trigger: allFileOps, Shared: s})
	newWatcher(t, Options{Root: beside, Trigger: allFileOps, Shared: s})
	if n := s.Instances(); n != 3 {
		t.Errorf("Instances() = %d, want 3 (outer and beside, inner, link)", n)
	}
	if n := InstancesFor([]string{outer, inner, link, beside}); n != 3 {
		t.Errorf("InstancesFor = %d, want 3", n)
	}
	ro, _ := runUntil(t, wo)
	ri, _ := runUntil(t, wi)
	rl, _ := runUntil(t, wl)
	writeFile(t, filepath.Join(inner, "d/f"))
	testutil.Eventually(t, 5*time.Second, "outer: CREATE inner/d/f", func() bool { return ro.has(Change{Rel: "inner/d/f", Op: Create}) })
	testutil.Eventually(t, 5*time.Second, "inner: CREATE d/f", func() bool { return ri.has(Change{Rel: "d/f", Op: Create}) })
	testutil.Eventually(t, 5*time.Second, "link: CREATE d/f", func() bool { return rl.has(Change{Rel: "d/f", Op: Create}) })
}

// A tree that stops leaves its shared instance: its watches are dropped
// and the others go on; the instance ends with its last tree.
func TestSharedTreeLeaves(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	mkdirs(t, a, "d")
	mkdirs(t, b, "d")
	s := newShared(t)
	wa := newWatcher(t, Options{Root: a, Trigger: allFileOps, Shared: s})
	wb := newWatcher(t, Options{Root: b, Trigger: allFileOps, Shared: s})
	_, stopA := runUntil(t, wa)
	rb, stopB := runUntil(t, wb)
	stopA()
	if got := ownWatches(wa); len(got) != 0 {
		t.Errorf("a still watched after its Run ended: %q", got)
	}
	writeFile(t, filepath.Join(b, "d/f"))
	// Covered: a walk of b that the marker had not yet seen through when
	// a left may be reported whole instead (see marker).
	testutil.Eventually(t, 5*time.Second, "b: CREATE d/f", func() bool { return rb.covered("d/f") })
	if n := s.Instances(); n != 1 {
		t.Errorf("Instances() = %d with one tree left, want 1", n)
	}
	stopB()
	if n := s.Instances(); n != 0 {
		t.Errorf("Instances() = %d with no tree left, want 0", n)
	}
}

// Changes made between New and Run, while the shared instance is already
// read for another tree, are handed on when Run starts; so are those of
// a Watcher closed unrun not: its watches are dropped.
func TestSharedEarlyEvents(t *testing.T) {
	base := t.TempDir()
	a, b, c := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c")
	mkdirs(t, a, "")
	mkdirs(t, b, "d")
	mkdirs(t, c, "")
	s := newShared(t)
	wa := newWatcher(t, Options{Root: a, Trigger: allFileOps, Shared: s})
	ra, _ := runUntil(t, wa)
	wb := newWatcher(t, Options{Root: b, Trigger: allFileOps, Shared: s})
	wc := newWatcher(t, Options{Root: c, Trigger: allFileOps, Shared: s})
	writeFile(t, filepath.Join(b, "d/early"))
	writeFile(t, filepath.Join(c, "early"))
	writeFile(t, filepath.Join(a, "mark"))
	// Once a's later write is in, the loop has read b's earlier one.
	testutil.Eventually(t, 5*time.Second, "a: CREATE mark", func() bool { return ra.has(Change{Rel: "mark", Op: Create}) })
	wc.Close()
	if got := ownWatches(wc); len(got) != 0 {
		t.Errorf("c still watched after Close: %q", got)
	}
	rb, _ := runUntil(t, wb)
	testutil.Eventually(t, 5*time.Second, "b: CREATE d/early", func() bool { return rb.has(Change{Rel: "d/early", Op: Create}) })
}

// An overflow of the shared queue loses events of every tree in it: each
// is watched anew and reported whole, and goes on being watched.
func TestSharedOverflow(t *testing.T) {
	restore := inotifytest.LowerQueue(t, 64)
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	mkdirs(t, a, "x")
	mkdirs(t, b, "y")
	s := newShared(t)
	wa := newWatcher(t, Options{Root: a, Trigger: allFileOps, Shared: s}) // the limit applies to instances made from now
	restore()
	// b's filter holds the loop at b's first change until the queue has
	// overflowed.
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	wb := newWatcher(t, Options{Root: b, Trigger: allFileOps, Shared: s, Filter: func(Change) bool {
		once.Do(func() { close(held); <-release })
		return true
	}})
	ra, _ := runUntil(t, wa)
	rb, _ := runUntil(t, wb)
	writeFile(t, filepath.Join(b, "first"))
	<-held
	overflow(t, filepath.Join(a, "x")) // 6,000 events: fsnotify buffers 4,096, the kernel 64
	mkdirs(t, b, "y/new")
	close(release)
	for name, r := range map[string]*recorder{"a": ra, "b": rb} {
		testutil.Eventually(t, 10*time.Second, name+": the root reported after the overflow", func() bool {
			return r.has(Change{Rel: "", Op: Create, IsDir: true})
		})
	}
	if wa.Overflows() == 0 || wb.Overflows() == 0 {
		t.Errorf("overflows counted: a %d, b %d; want both", wa.Overflows(), wb.Overflows())
	}
	writeFile(t, filepath.Join(b, "y/new/after"))
	testutil.Eventually(t, 5*time.Second, "b: CREATE y/new/after", func() bool { return rb.has(Change{Rel: "y/new/after", Op: Create}) })
	writeFile(t, filepath.Join(a, "after"))
	testutil.Eventually(t, 5*time.Second, "a: CREATE after", func() bool { return ra.has(Change{Rel: "after", Op: Create}) })
}

// A directory bind-mounted into one tree is another tree's root: one
// directory reached by two paths, so the trees get instances of their own,
// and both see a change in it.
func TestSharedBindMountApart(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind-mount")
	}
	base := t.TempDir()
	a, data := filepath.Join(base, "a"), filepath.Join(base, "data")
	mkdirs(t, a, "m")
	mkdirs(t, data, "sub")
	if out, err := exec.Command("mount", "--bind", data, filepath.Join(a, "m")).CombinedOutput(); err != nil {
		t.Skipf("mount --bind: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = unix.Unmount(filepath.Join(a, "m"), unix.MNT_DETACH) })
	s := newShared(t)
	wa := newWatcher(t, Options{Root: a, Trigger: allFileOps, Shared: s})
	wd := newWatcher(t, Options{Root: filepath.Join(data, "sub"), Trigger: allFileOps, Shared: s})
	if n := s.Instances(); n != 2 {
		t.Errorf("Instances() = %d, want 2", n)
	}
	ra, _ := runUntil(t, wa)
	rd, _ := runUntil(t, wd)
	writeFile(t, filepath.Join(data, "sub/f"))
	testutil.Eventually(t, 5*time.Second, "a: CREATE m/sub/f", func() bool { return ra.has(Change{Rel: "m/sub/f", Op: Create}) })
	testutil.Eventually(t, 5*time.Second, "data/sub: CREATE f", func() bool { return rd.has(Change{Rel: "f", Op: Create}) })
}

func TestFootprintOverlaps(t *testing.T) {
	root := mount{dev: 1, root: "/", point: "/"}
	mounts := []mount{
		root,
		{dev: 2, root: "/", point: "/srv/media"}, // a filesystem mounted in a tree
		{dev: 1, root: "/data", point: "/mnt/data"}, // a bind mount of /data
		{dev: 1, root: "/tmp/systemd-private-x/tmp", point: "/tmp"},
		{dev: 2, root: "/", point: "/mnt/media"}, // the same filesystem again
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"/srv/www", "/srv/ftp", false},
		{"/srv/www", "/srv/www", true},
		{"/srv", "/srv/www", true},
		{"/", "/srv", true},
		{"/data/x", "/mnt/data/y", false},
		{"/data/x", "/mnt/data/x/y", true},                // one directory, two paths
		{"/mnt/data", "/data/sub", true},                  // the bind mount's root
		{"/srv", "/mnt/media/a", true},                    // /srv holds /srv/media, which is /mnt/media
		{"/tmp/t", "/tmp/systemd-x/t", false},             // PrivateTmp's /tmp is elsewhere
		{"/tmp/t", "/tmp/systemd-private-x/tmp/t", false}, // inside the private /tmp
		{"/srv/www2", "/srv/www", false},                  // a prefix of the name, not a parent
	} {
		fa, fb := footprintOf(c.a, c.a, mounts), footprintOf(c.b, c.b, mounts)
		if got := fa.overlaps(fb); got != c.want {
			t.Errorf("%s overlaps %s = %v, want %v (regions %v, %v)", c.a, c.b, got, c.want, fa.regions, fb.regions)
		}
		if got := fb.overlaps(fa); got != c.want {
			t.Errorf("%s overlaps %s = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	m, ok := parseMountinfo(`36 35 98:1 /a\040b /mnt/x\134y rw,noatime master:1 - ext3 /dev/root rw`)
	want := mount{dev: unix.Mkdev(98, 1), root: "/a b", point: `/mnt/x\y`}
	if !ok || m != want {
		t.Errorf("parseMountinfo = %+v, %v; want %+v", m, ok, want)
	}
	if _, ok := parseMountinfo("garbage"); ok {
		t.Error("a short line parsed")
	}
}

// holdLoop returns a Filter that holds the loop at the change of "hold"
// until release is closed, so that the events after it queue up; and that
// calls walked at the first change of "x" (its walk is then done).
func holdLoop(walked func()) (filter func(Change) bool, held <-chan struct{}, release chan struct{}) {
	h, r := make(chan struct{}), make(chan struct{})
	var once, onceX sync.Once
	return func(c Change) bool {
		switch c.Rel {
		case "hold":
			once.Do(func() { close(h); <-r })
		case "x":
			onceX.Do(walked)
		}
		return true
	}, h, r
}

// A walk that finds a directory whose move there is still queued is
// handed that directory's existing watch; the move's handling then
// removes it. The walk is done again (finding a directory made in the
// meantime, whose creation no watch saw) and reported whole: writes in
// them afterwards are seen.
func TestDirMovedIntoWalkedDir(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			base := t.TempDir()
			a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
			mkdirs(t, a, "")
			mkdirs(t, b, "sub/deep")
			from := b // moved from another tree
			opts := Options{Root: a, Trigger: allFileOps}
			if shared {
				opts.Shared = newShared(t)
			} else {
				from = a // moved within the tree
				mkdirs(t, a, "sub/deep")
			}
			filter, held, release := holdLoop(func() { mkdirs(t, a, "x/sub/deep/new") })
			opts.Filter = filter
			wa := newWatcher(t, opts)
			ra, _ := runUntil(t, wa)
			if shared {
				wb := newWatcher(t, Options{Root: b, Trigger: allFileOps, Shared: opts.Shared})
				runUntil(t, wb)
			}
			writeFile(t, filepath.Join(a, "hold"))
			<-held
			mkdirs(t, a, "x")
			if err := os.Rename(filepath.Join(from, "sub"), filepath.Join(a, "x/sub")); err != nil {
				t.Fatal(err)
			}
			close(release)
			want := "x/sub/deep/late"
			testutil.Eventually(t, 5*time.Second, "x/sub reported", func() bool { return ra.covered("x/sub") })
			// Once the walk's marker is back, no watch is handed over any more.
			testutil.Eventually(t, 5*time.Second, "the loop running", wa.in.looping.Load)
			testutil.Eventually(t, 5*time.Second, "the marker back", func() bool {
				back := false
				_ = wa.in.do(func() { back = len(wa.in.marker.walks) == 0 })
				return back
			})
			for _, want := range []string{want, "x/sub/deep/new/late"} {
				writeFile(t, filepath.Join(a, want))
				testutil.Eventually(t, 5*time.Second, "CREATE "+want, func() bool { return ra.has(Change{Rel: want, Op: Create}) })
			}
		})
	}
}
