package watch

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// openFiles is a CoalesceOptions.Writing whose answers the test sets.
type openFiles struct {
	mu   sync.Mutex
	open map[string]bool
}

func (o *openFiles) set(rel string, open bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[rel] = open
}

func (o *openFiles) writing(rel string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.open[rel]
}

// A file still open for writing when its batch is due is held back, and
// handed on once its writer has closed it; the rest of the batch goes at
// once; a file written forever goes once HoldOpen has passed.
func TestCoalesceHoldsOpenFiles(t *testing.T) {
	clock := &fakeClock{now: t0}
	files := &openFiles{open: map[string]bool{"big": true, "log": true}}
	in, out := make(chan Change), make(chan Batch)
	bl := &Backlog{}
	go Coalesce(context.Background(), in, out, CoalesceOptions{Delay: time.Second, Clock: clock,
		Writing: files.writing, HoldOpen: time.Minute, Backlog: bl})
	defer close(in)
	advance := func(d time.Duration, timers int) {
		t.Helper()
		testutil.Eventually(t, 5*time.Second, "the coalescer's timers", func() bool { return clock.armed() == timers })
		clock.Advance(d)
	}
	in <- file("big")
	in <- file("log")
	in <- file("small")
	advance(time.Second, 1)
	if b := receive(t, out); !slices.Equal(b.Paths, []string{"small"}) {
		t.Fatalf("first batch %v, want small alone (big and log are open)", b.Paths)
	}
	// The coalescer books the handed-on batch after the send: poll.
	testutil.Eventually(t, 5*time.Second, "the backlog of the 2 held files since t0", func() bool {
		n, _, first := bl.Load()
		return n == 2 && first.Equal(t0)
	})
	// More writes to big while it is held: it stays held, counted once.
	in <- file("big")
	testutil.Eventually(t, 5*time.Second, "big pending again and counted once", func() bool {
		n, _, _ := bl.Load()
		return clock.armed() == 2 && n == 2
	})
	advance(time.Second, 2) // the delay, and the recheck
	advance(holdRecheck, 1)
	files.set("big", false)
	advance(holdRecheck, 1)
	if b := receive(t, out); !slices.Equal(b.Paths, []string{"big"}) {
		t.Fatalf("batch after the close %v, want big", b.Paths)
	}
	// log is never closed: it goes after HoldOpen.
	for clock.Now().Before(t0.Add(time.Minute)) { // its change came at t0
		advance(holdRecheck, 1)
	}
	if b := receive(t, out); !slices.Equal(b.Paths, []string{"log"}) {
		t.Fatalf("batch after HoldOpen %v, want log", b.Paths)
	}
}

// At a stop the held files go at once; those still open for writing come
// in Batch.Open, since what rsync copies of them may be partial. A held
// file closed meanwhile is not among them, nor is one never held.
func TestCoalesceStopHandsOnOpenFiles(t *testing.T) {
	clock := &fakeClock{now: t0}
	files := &openFiles{open: map[string]bool{"big": true, "closed-later": true}}
	ctx, stop := context.WithCancel(context.Background())
	in, out := make(chan Change), make(chan Batch)
	go Coalesce(ctx, in, out, CoalesceOptions{Delay: time.Second, Clock: clock, Writing: files.writing, HoldOpen: time.Minute})
	defer close(in)
	in <- file("big")
	in <- file("closed-later")
	in <- file("small")
	testutil.Eventually(t, 5*time.Second, "the delay's timer", func() bool { return clock.armed() == 1 })
	clock.Advance(time.Second)
	if b := receive(t, out); !slices.Equal(b.Paths, []string{"small"}) || b.Open != nil {
		t.Fatalf("first batch %v (open %v), want small alone, nothing open", b.Paths, b.Open)
	}
	files.set("closed-later", false)
	stop()
	b := receive(t, out)
	if !slices.Equal(b.Paths, []string{"big", "closed-later"}) || !slices.Equal(b.Open, []string{"big"}) {
		t.Errorf("batch at the stop %v, open %v; want big and closed-later, big open", b.Paths, b.Open)
	}
}

// A file that a rename put in place and that is held while still open
// keeps its rename: the batch that hands it on lists it in Renamed, and
// the batch without it does not.
func TestCoalesceHeldFileKeepsRename(t *testing.T) {
	clock := &fakeClock{now: t0}
	files := &openFiles{open: map[string]bool{"r1": true}}
	in, out := make(chan Change), make(chan Batch)
	go Coalesce(context.Background(), in, out, CoalesceOptions{Delay: time.Second, Clock: clock, Writing: files.writing, HoldOpen: time.Minute})
	defer close(in)
	in <- Change{Rel: "r0", Op: Rename}
	in <- Change{Rel: "r1", Op: Create, From: "r0"}
	in <- Change{Rel: "s0", Op: Rename}
	in <- Change{Rel: "s1", Op: Create, From: "s0"}
	testutil.Eventually(t, 5*time.Second, "the delay's timer", func() bool { return clock.armed() == 1 })
	clock.Advance(time.Second)
	if b := receive(t, out); !slices.Equal(b.Paths, []string{"r0", "s0", "s1"}) || !slices.Equal(b.Renamed, []string{"s1"}) {
		t.Fatalf("first batch %v, renamed %v; want r0 s0 s1, s1 renamed (r1 is held)", b.Paths, b.Renamed)
	}
	files.set("r1", false)
	testutil.Eventually(t, 5*time.Second, "the recheck's timer", func() bool { return clock.armed() == 1 })
	clock.Advance(holdRecheck)
	if b := receive(t, out); !slices.Equal(b.Paths, []string{"r1"}) || !slices.Equal(b.Renamed, []string{"r1"}) {
		t.Errorf("batch after the close %v, renamed %v; want r1, renamed", b.Paths, b.Renamed)
	}
}

// A file still open whose batch is not due yet at the stop (its first
// write came less than Delay before) goes on at once, in Batch.Open too.
func TestCoalesceStopNamesOpenFileNotYetHeld(t *testing.T) {
	clock := &fakeClock{now: t0}
	files := &openFiles{open: map[string]bool{"big": true}}
	ctx, stop := context.WithCancel(context.Background())
	in, out := make(chan Change), make(chan Batch)
	go Coalesce(ctx, in, out, CoalesceOptions{Delay: time.Second, Clock: clock, Writing: files.writing, HoldOpen: time.Minute})
	defer close(in)
	in <- file("big")
	in <- file("small")
	testutil.Eventually(t, 5*time.Second, "the delay's timer", func() bool { return clock.armed() == 1 })
	stop()
	b := receive(t, out)
	if !slices.Equal(b.Paths, []string{"big", "small"}) || !slices.Equal(b.Open, []string{"big"}) {
		t.Errorf("batch at the stop %v, open %v; want big and small, big open", b.Paths, b.Open)
	}
}
