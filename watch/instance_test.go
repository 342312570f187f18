package watch

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
	"github.com/inosync/inosync/watch/inotifytest"
)

// sharedInstance starts an Instance for the test, closed at its end.
func sharedInstance(t *testing.T) *Instance {
	t.Helper()
	lg, _ := testLogger(t)
	in, err := NewInstance(lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in
}

// runStoppable is run with a stop of its own: it ends Run and waits.
func runStoppable(t *testing.T, w *Watcher) (*recorder, func()) {
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

// Two trees on one instance: each gets the changes of its own tree only.
func TestInstanceRoutesByTree(t *testing.T) {
	in := sharedInstance(t)
	base := t.TempDir()
	mkdirs(t, base, "a/sub", "b", "outside")
	wa := newWatcher(t, Options{Root: filepath.Join(base, "a"), Trigger: allFileOps, Instance: in})
	wb := newWatcher(t, Options{Root: filepath.Join(base, "b"), Trigger: allFileOps, Instance: in})
	ra, _ := runStoppable(t, wa)
	rb, _ := runStoppable(t, wb)
	writeFile(t, filepath.Join(base, "a/sub/f"))
	writeFile(t, filepath.Join(base, "b/g"))
	testutil.Eventually(t, 5*time.Second, "a/sub/f and b/g", func() bool {
		return ra.has(Change{Rel: "sub/f", Op: Create}) && rb.has(Change{Rel: "g", Op: Create})
	})
	for _, r := range []*recorder{ra, rb} {
		if r.any(func(c Change) bool { return c.Rel == "g" && r == ra || c.Rel == "sub/f" && r == rb }) {
			t.Errorf("a change went to the other tree: %v", r.changes())
		}
	}
	if got := wa.in.watchList(); len(got) != 3 {
		t.Errorf("the instance watches %q, want a, a/sub and b", got)
	}
}

// Nested trees: the inner one leaves out a directory that the outer one
// watches. The inner tree gets no change from it; both get the changes of
// what they both watch; and when the inner tree stops, the outer one still
// gets those (their shared watch stays).
func TestInstanceNestedTrees(t *testing.T) {
	in := sharedInstance(t)
	base := t.TempDir()
	mkdirs(t, base, "in/skip", "in/both")
	outer := newWatcher(t, Options{Root: base, Trigger: allFileOps, Instance: in})
	inner := newWatcher(t, Options{Root: filepath.Join(base, "in"), Trigger: allFileOps, Instance: in,
		Exclude: func(rel string, isDir bool) bool { return rel == "skip" }})
	ro, _ := runStoppable(t, outer)
	ri, stopInner := runStoppable(t, inner)
	writeFile(t, filepath.Join(base, "in/skip/x"))
	writeFile(t, filepath.Join(base, "in/both/y"))
	testutil.Eventually(t, 5*time.Second, "in/skip/x and in/both/y for the outer tree, both/y for the inner", func() bool {
		return ro.has(Change{Rel: "in/skip/x", Op: Create}) && ro.has(Change{Rel: "in/both/y", Op: Create}) &&
			ri.has(Change{Rel: "both/y", Op: Create})
	})
	if ri.any(func(c Change) bool { return c.Rel == "skip/x" }) {
		t.Errorf("the inner tree got a change of the directory it leaves out: %v", ri.changes())
	}
	stopInner()
	writeFile(t, filepath.Join(base, "in/both/z"))
	testutil.Eventually(t, 5*time.Second, "in/both/z for the outer tree after the inner one stopped", func() bool {
		return ro.has(Change{Rel: "in/both/z", Op: Create})
	})
	want := []string{base, filepath.Join(base, "in"), filepath.Join(base, "in/both"), filepath.Join(base, "in/skip")}
	if got := in.watchList(); !slices.Equal(sorted(got), want) {
		t.Errorf("watches after the inner tree stopped: %q, want %q", sorted(got), want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// An overflow of the shared queue lost events of every tree: each is
// watched again and reported whole, and goes on reporting afterwards.
func TestInstanceOverflowRebuildsEveryTree(t *testing.T) {
	restore := inotifytest.LowerQueue(t, 64)
	in := sharedInstance(t) // the lowered queue applies to instances made from now
	restore()
	base := t.TempDir()
	mkdirs(t, base, "a/d", "b")
	wa := newWatcher(t, Options{Root: filepath.Join(base, "a"), Trigger: allFileOps, Instance: in})
	wb := newWatcher(t, Options{Root: filepath.Join(base, "b"), Trigger: allFileOps, Instance: in})
	overflow(t, filepath.Join(base, "a/d"))
	ra, _ := runStoppable(t, wa)
	rb, _ := runStoppable(t, wb)
	root := Change{Rel: "", Op: Create, IsDir: true}
	testutil.Eventually(t, 10*time.Second, "both trees reported whole", func() bool { return ra.has(root) && rb.has(root) })
	writeFile(t, filepath.Join(base, "b/after"))
	writeFile(t, filepath.Join(base, "a/d/after"))
	testutil.Eventually(t, 5*time.Second, "changes after the rebuild", func() bool {
		return ra.has(Change{Rel: "d/after", Op: Create}) && rb.has(Change{Rel: "after", Op: Create})
	})
	if wa.Overflows() == 0 || wb.Overflows() == 0 {
		t.Errorf("overflows counted: a %d, b %d; want both", wa.Overflows(), wb.Overflows())
	}
}
