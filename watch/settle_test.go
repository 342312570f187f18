package watch

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// The probe on real files: a writer that still has the file open, a change
// newer than the last event taken in, and a created file with content but
// no write seen keep a file unsettled; anything else has settled.
func TestSettledProbe(t *testing.T) {
	root := t.TempDir()
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps})
	path := filepath.Join(root, "f")
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	after := time.Now() // every change of f so far is older
	if !w.Settled(Settling{Rel: "f", Ops: Write, Seen: after}) {
		t.Error("a written and closed file has not settled")
	}
	if !w.Settled(Settling{Rel: "f", Ops: Create | Write, Seen: after}) {
		t.Error("a created, written and closed file has not settled")
	}
	if w.Settled(Settling{Rel: "f", Ops: Write, Seen: after.Add(-time.Hour)}) {
		t.Error("a file changed after its last event was taken in has settled")
	}
	if w.Settled(Settling{Rel: "f", Ops: Write}) {
		t.Error("a file known only from quiet changes has settled")
	}
	if w.Settled(Settling{Rel: "f", Ops: Create, Seen: after}) {
		t.Error("a file created with content but no write seen has settled")
	}
	empty := filepath.Join(root, "empty")
	writeFileBytes(t, empty, nil)
	if !w.Settled(Settling{Rel: "empty", Ops: Create, Seen: time.Now()}) {
		t.Error("an empty created file has not settled")
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if w.Settled(Settling{Rel: "f", Ops: Write, Seen: time.Now()}) {
		t.Error("a file open for writing has settled")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !w.Settled(Settling{Rel: "f", Ops: Write, Seen: time.Now()}) {
		t.Error("not settled once the writer closed it")
	}
	// A reader does not count.
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !w.Settled(Settling{Rel: "f", Ops: Write, Seen: time.Now()}) {
		t.Error("a file open for reading only has not settled")
	}

	// What is gone or is no regular file has nothing more coming.
	if err := os.Symlink("f", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, root, "dir")
	for _, rel := range []string{"gone", "gone/below", "link", "fifo", "dir"} {
		if !w.Settled(Settling{Rel: rel, Ops: Write, Seen: time.Now()}) {
			t.Errorf("%s has not settled", rel)
		}
	}
}

// settledSet is a CoalesceOptions.Settled whose answers the test sets; it
// keeps what it was asked.
type settledSet struct {
	mu    sync.Mutex
	ok    map[string]bool
	asked []Settling
}

func (s *settledSet) settled(f Settling) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, f)
	return s.ok[f.Rel]
}

func (s *settledSet) set(rel string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ok[rel] = ok
}

func (s *settledSet) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.asked)
}

func (s *settledSet) last() Settling {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.asked) == 0 {
		return Settling{}
	}
	return s.asked[len(s.asked)-1]
}

// With Settled, a small batch after a quiet spell goes as soon as its files
// have settled, without waiting out the delay; otherwise the delay holds.
// The fake clock never reaches the delay unless told.
func TestCoalesceSettledGoesEarly(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := &settledSet{ok: map[string]bool{}}
	in, out := make(chan Change), make(chan Batch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Coalesce(ctx, in, out, CoalesceOptions{Delay: time.Hour, Clock: clock, Settled: s.settled})
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		close(in)
		for range out {
		}
		<-done
	})
	noBatch := func(what string) {
		t.Helper()
		// in is unbuffered: once the next change is sent, the loop has
		// handled the one before; the timer shows it chose to wait.
		testutil.Eventually(t, 5*time.Second, "the batch timer", func() bool { return clock.armed() == 1 })
		select {
		case b := <-out:
			t.Fatalf("%s: batch %v went early", what, b)
		default:
		}
	}
	want := func(paths ...string) {
		t.Helper()
		if got, want := receive(t, out), (Batch{Paths: paths}); !reflect.DeepEqual(got, want) {
			t.Fatalf("batch = %#v, want %#v", got, want)
		}
	}

	// Still being written: it waits, and the probe saw what was taken in.
	in <- Change{Rel: "a", Op: Create}
	noBatch("a being written")
	if got := s.last(); got.Rel != "a" || got.Ops != Create || !got.Seen.Equal(t0) {
		t.Fatalf("asked about %+v, want a, Create, %v", got, t0)
	}
	// Its next event finds it settled: out at once, the clock unmoved.
	s.set("a", true)
	clock.Advance(time.Second)
	in <- file("a")
	want("a")
	if got := s.last(); got.Ops != Create|Write || !got.Seen.Equal(t0.Add(time.Second)) {
		t.Fatalf("asked about %+v, want Create|Write at t0+1s", got)
	}
	testutil.Eventually(t, 5*time.Second, "the timer stopped", func() bool { return clock.armed() == 0 })

	// Right after a batch went, a settled file waits out the delay: in a
	// stream, runs should carry many paths.
	s.set("b", true)
	in <- file("b")
	noBatch("b right after a")
	clock.Advance(time.Hour)
	want("b")

	// After a quiet spell it goes at once again; but a directory synced
	// recursively, or more than settleMax files, wait.
	clock.Advance(settleQuiet)
	s.set("c", true)
	in <- file("c")
	want("c")
	clock.Advance(settleQuiet)
	in <- dir("d", Create)
	noBatch("a new directory")
	clock.Advance(time.Hour)
	want("d/")
	clock.Advance(settleQuiet)
	var many []string
	for i := range settleMax + 1 {
		rel := string(rune('e' + i))
		in <- file(rel) // not settled yet
		many = append(many, rel)
	}
	for _, rel := range many {
		s.set(rel, true)
	}
	asked := s.count()
	// in is unbuffered: once the second send is taken, the first has been
	// handled in full.
	in <- file("e")
	in <- file("e")
	noBatch("more than settleMax files")
	if n := s.count() - asked; n != 0 {
		t.Fatalf("the probe was asked %d times about a batch of %d files", n, len(many))
	}
	clock.Advance(time.Hour)
	want("e", "f", "g", "h", "i")
}

// The real probe behind the coalescer: a file written and closed in a
// watched tree goes out without the delay (an hour on a clock that does not
// move), in one batch of its own events.
func TestCoalesceSettledRealWrite(t *testing.T) {
	root := t.TempDir()
	w := newWatcher(t, Options{Root: root, Trigger: allFileOps | Chmod}) // the pokes below must trigger
	changes, out := make(chan Change, 64), make(chan Batch)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, changes); close(changes) }()
	// The system clock, as Seen is compared with the files' change times;
	// the hour is never waited out.
	go Coalesce(ctx, changes, out, CoalesceOptions{Delay: time.Hour, Settled: w.Settled})
	t.Cleanup(func() {
		cancel()
		for range out {
		}
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	path := filepath.Join(root, "new.txt")
	writeFileBytes(t, path, []byte("hello"))
	// Should the writer have been descheduled between its write and its
	// close for longer than the probe waits, nothing would ask again (a
	// close makes no event): a chmod makes one, until the batch goes.
	deadline := time.Now().Add(10 * time.Second)
	for mode := os.FileMode(0o600); ; mode ^= 0o044 {
		select {
		case b := <-out:
			if want := (Batch{Paths: []string{"new.txt"}}); !reflect.DeepEqual(withoutFirst(t, b), want) {
				t.Fatalf("batch = %#v, want %#v", b, want)
			}
			return
		case <-time.After(200 * time.Millisecond): // then poke it again
		}
		if time.Now().After(deadline) {
			t.Fatal("no batch within 10 s though the file was closed (the delay is an hour)")
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// A quiet change (outside the trigger mask) that was waiting when a
// triggering change came must not make the new batch due at once: the
// batch's delay counts from the triggering change.
func TestCoalesceQuietDoesNotSkipDelay(t *testing.T) {
	clock := &fakeClock{now: t0}
	in, out := make(chan Change), make(chan Batch)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Coalesce(ctx, in, out, CoalesceOptions{Delay: 10 * time.Second, Clock: clock})
	in <- Change{Rel: "chmodded", Op: Chmod, Quiet: true}
	in <- file("written")
	in <- file("written") // once taken, the one before was handled
	testutil.Eventually(t, 5*time.Second, "the batch timer", func() bool { return clock.armed() == 1 })
	select {
	case b := <-out:
		t.Fatalf("batch %v went before its delay", b)
	default:
	}
	clock.Advance(10 * time.Second)
	if got, want := receive(t, out), (Batch{Paths: []string{"chmodded", "written"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
	close(in)
}
