package watch

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func file(rel string) Change { return Change{Rel: rel, Op: Write} }
func dir(rel string, op Op) Change {
	return Change{Rel: rel, Op: op, IsDir: true}
}

func TestPendingDelayCountsFromFirst(t *testing.T) {
	p := newPending(CoalesceOptions{Delay: 10 * time.Second})
	if p.due(t0.Add(time.Hour)) {
		t.Fatal("empty batch is due")
	}
	p.add(file("a"), t0)
	p.add(file("b"), t0.Add(9*time.Second)) // later changes do not push the deadline
	if p.due(t0.Add(10*time.Second - time.Millisecond)) {
		t.Fatal("due before the delay since the first change")
	}
	if !p.due(t0.Add(10 * time.Second)) {
		t.Fatal("not due at the delay since the first change")
	}
	if got, want := p.take(), (Batch{Paths: []string{"a", "b"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("take = %#v, want %#v", got, want)
	}
	// The next batch starts its own delay.
	p.add(file("c"), t0.Add(20*time.Second))
	if p.due(t0.Add(29 * time.Second)) {
		t.Fatal("second batch due too early")
	}
	if !p.due(t0.Add(30 * time.Second)) {
		t.Fatal("second batch not due")
	}
}

func TestPendingZeroDelay(t *testing.T) {
	p := newPending(CoalesceOptions{})
	p.add(file("a"), t0)
	if !p.due(t0) {
		t.Fatal("delay 0: not due at once")
	}
}

func TestPendingRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts CoalesceOptions
		in   []Change
		want Batch
	}{
		{
			name: "sorted, duplicates once",
			in:   []Change{file("b/x"), file("a"), file("b/x"), file("a.txt"), file("a/z")},
			want: Batch{Paths: []string{"a", "a.txt", "a/z", "b/x"}},
		},
		{
			name: "pending ancestor dir absorbs descendants",
			in:   []Change{dir("a", Create), file("a/x"), file("a/b/c/d"), dir("a/b", Remove), file("ab")},
			want: Batch{Paths: []string{"a/", "ab"}},
		},
		{
			name: "dir arriving after its children removes them",
			in:   []Change{file("a/x"), file("a/b/y"), file("a/b/z"), file("c"), dir("a/b", Rename)},
			want: Batch{Paths: []string{"a/b/", "a/x", "c"}},
		},
		{
			name: "a dir's own chmod is not recursive",
			in:   []Change{dir("d", Chmod), file("d/x"), file("d")},
			want: Batch{Paths: []string{"d", "d/x"}},
		},
		{
			name: "file then dir of the same name: the dir wins",
			in:   []Change{file("d"), dir("d", Create), file("d")},
			want: Batch{Paths: []string{"d/"}},
		},
		{
			name: "root change is full",
			in:   []Change{file("a"), dir("", Create), file("b")},
			want: Batch{Full: true},
		},
		{
			name: "collapse past PerDir",
			opts: CoalesceOptions{PerDir: 3},
			in:   []Change{file("d/1"), file("d/2"), file("d/3"), file("e"), file("d/4"), file("d/5")},
			want: Batch{Paths: []string{"d/", "e"}},
		},
		{
			name: "PerDir counts subdirs with pending entries too; highest dir collapses",
			opts: CoalesceOptions{PerDir: 2},
			in:   []Change{file("x/a/1"), file("x/b/1"), file("x/c/1")},
			want: Batch{Paths: []string{"x/"}},
		},
		{
			name: "exactly PerDir stays",
			opts: CoalesceOptions{PerDir: 3},
			in:   []Change{file("d/1"), file("d/2"), file("d/3")},
			want: Batch{Paths: []string{"d/1", "d/2", "d/3"}},
		},
		{
			name: "the root is not collapsed by PerDir",
			opts: CoalesceOptions{PerDir: 2, MaxPaths: 10},
			in:   []Change{file("1"), file("2"), file("3")},
			want: Batch{Paths: []string{"1", "2", "3"}},
		},
		{
			name: "MaxPaths makes it full",
			opts: CoalesceOptions{MaxPaths: 3},
			in:   []Change{file("a/1"), file("b/1"), file("c/1"), file("d/1"), file("e")},
			want: Batch{Full: true},
		},
		{
			name: "collapsing frees room under MaxPaths",
			opts: CoalesceOptions{MaxPaths: 3, PerDir: 2},
			in:   []Change{file("d/1"), file("d/2"), file("d/3"), file("x"), file("y")},
			want: Batch{Paths: []string{"d/", "x", "y"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPending(tc.opts)
			for i, c := range tc.in {
				p.add(c, t0.Add(time.Duration(i)*time.Millisecond))
			}
			if got := p.take(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("take = %#v, want %#v", got, tc.want)
			}
			if !p.empty() {
				t.Fatal("not empty after take")
			}
		})
	}
}

func TestPendingAddBatchRoundTrip(t *testing.T) {
	p := newPending(CoalesceOptions{})
	p.add(file("a/x"), t0)
	p.add(dir("b", Create), t0)
	b := p.take()
	p.add(file("b/y"), t0)
	p.add(file("c"), t0)
	p.addBatch(b)
	want := Batch{Paths: []string{"a/x", "b/", "c"}}
	if got := p.take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("take = %#v, want %#v", got, want)
	}
}

// fakeClock is a Clock whose time moves only when told.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c      chan time.Time
	at     time.Time
	done   bool // fired or stopped
	parent *fakeClock
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: make(chan time.Time, 1), at: c.now.Add(d), parent: c}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves time on and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			t.c <- c.now
		}
	}
}

// armed returns the number of timers neither fired nor stopped.
func (c *fakeClock) armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.done {
			n++
		}
	}
	return n
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.parent.mu.Lock()
	defer t.parent.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// receive returns the next batch, failing the test after a deadline. It
// checks that the batch says when its first change came, then clears
// First, so that callers compare only what is synced.
func receive(t *testing.T, out <-chan Batch) Batch {
	t.Helper()
	select {
	case b, ok := <-out:
		if !ok {
			t.Fatal("out closed")
		}
		return withoutFirst(t, b)
	case <-time.After(5 * time.Second):
		t.Fatal("no batch within 5s")
	}
	return Batch{}
}

func TestCoalesceFakeClock(t *testing.T) {
	clock := &fakeClock{now: t0}
	in, out := make(chan Change), make(chan Batch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Coalesce(ctx, in, out, CoalesceOptions{Delay: 10 * time.Second, Clock: clock}); close(done) }()
	t.Cleanup(func() {
		cancel()
		close(in)
		for range out { // until Coalesce closes it
		}
		<-done
	})

	if n := clock.armed(); n != 0 {
		t.Fatalf("%d timers armed while idle", n)
	}
	in <- file("a") // in is unbuffered: once sent, the loop has it
	testutil.Eventually(t, 5*time.Second, "the batch timer", func() bool { return clock.armed() == 1 })
	clock.Advance(9 * time.Second)
	in <- file("b") // the loop is back in its select: nothing was due
	select {
	case b := <-out:
		t.Fatalf("batch %v before the delay", b)
	default:
	}
	clock.Advance(time.Second)
	if got, want := receive(t, out), (Batch{Paths: []string{"a", "b"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
	testutil.Eventually(t, 5*time.Second, "no timer once idle", func() bool { return clock.armed() == 0 })

	// The next batch counts its delay from its own first change.
	in <- file("c")
	testutil.Eventually(t, 5*time.Second, "the second timer", func() bool { return clock.armed() == 1 })
	clock.Advance(10 * time.Second)
	if got, want := receive(t, out), (Batch{Paths: []string{"c"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
}

func TestCoalesceZeroDelayPrompt(t *testing.T) {
	in, out := make(chan Change, 16), make(chan Batch)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Coalesce(ctx, in, out, CoalesceOptions{})
	in <- file("x")
	if got, want := receive(t, out), (Batch{Paths: []string{"x"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
}

// A consumer that does not read must not hold up intake, and what came
// meanwhile must all come out.
func TestCoalesceSlowConsumer(t *testing.T) {
	in, out := make(chan Change), make(chan Batch)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Coalesce(ctx, in, out, CoalesceOptions{})
	const n = 1000
	sent := make(chan struct{})
	go func() {
		for i := range n {
			in <- file(fmt.Sprintf("d%02d/f%03d", i%50, i))
		}
		close(sent)
	}()
	select {
	case <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("intake blocked while nobody read out")
	}
	seen := map[string]bool{}
	batches := 0
	for len(seen) < n {
		b := receive(t, out)
		batches++
		if b.Full {
			t.Fatal("unexpected Full")
		}
		for _, p := range b.Paths {
			seen[p] = true
		}
	}
	if batches > 3 {
		t.Errorf("%d batches for changes that all came while one waited: want them folded together", batches)
	}
}

func TestCoalesceFlushOnCancel(t *testing.T) {
	clock := &fakeClock{now: t0}
	in, out := make(chan Change), make(chan Batch)
	ctx, cancel := context.WithCancel(context.Background())
	go Coalesce(ctx, in, out, CoalesceOptions{Delay: time.Hour, Clock: clock})
	in <- file("a")
	cancel()
	// Once stopping, the delay is not awaited, neither for what was pending…
	if got, want := receive(t, out), (Batch{Paths: []string{"a"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
	// …nor for changes the watcher still delivers before it closes in.
	in <- file("b")
	if got, want := receive(t, out), (Batch{Paths: []string{"b"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
	close(in)
	if _, ok := <-out; ok {
		t.Fatal("out not closed")
	}
}

func TestCoalesceFlushOnInputClosed(t *testing.T) {
	in, out := make(chan Change, 2), make(chan Batch)
	in <- file("a")
	in <- dir("b", Create)
	close(in)
	go Coalesce(context.Background(), in, out, CoalesceOptions{Delay: time.Hour})
	if got, want := receive(t, out), (Batch{Paths: []string{"a", "b/"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
	if _, ok := <-out; ok {
		t.Fatal("out not closed")
	}
}

func BenchmarkCoalesce10k(b *testing.B) {
	changes := make([]Change, 10000)
	for i := range changes {
		changes[i] = Change{Rel: fmt.Sprintf("d%03d/f%05d", i%500, i), Op: Write}
	}
	b.ReportAllocs()
	for b.Loop() {
		p := newPending(CoalesceOptions{})
		for _, c := range changes {
			p.add(c, t0)
		}
		if bt := p.take(); len(bt.Paths) != len(changes) {
			b.Fatalf("%d paths, want %d", len(bt.Paths), len(changes))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(changes)), "ns/change")
}

// Quiet changes (ops outside the trigger mask) start nothing, and go out
// with the next batch that a triggering change starts.
func TestCoalesceQuietRidesAlong(t *testing.T) {
	clock := &fakeClock{now: t0}
	out := make(chan Batch, 1)
	c := newCoalescer(nil, out, CoalesceOptions{Clock: clock})
	c.intake(Change{Rel: "chmodded", Op: Chmod, Quiet: true})
	c.schedule()
	clock.Advance(time.Hour)
	c.schedule()
	if c.held != nil || c.timer != nil || clock.armed() != 0 {
		t.Fatalf("a quiet change started something: held %v, timer %v", c.held, c.timer)
	}
	c.intake(file("written"))
	c.schedule()
	if c.held == nil {
		t.Fatal("delay 0: a triggering change is not due at once")
	}
	if got, want := *c.held, (Batch{Paths: []string{"chmodded", "written"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
}

// A quiet change seen before the stop is handed on at the end, alone.
func TestCoalesceQuietAtStop(t *testing.T) {
	in, out := make(chan Change, 1), make(chan Batch, 1)
	in <- Change{Rel: "chmodded", Op: Chmod, Quiet: true}
	close(in)
	Coalesce(context.Background(), in, out, CoalesceOptions{Clock: &fakeClock{now: t0}})
	if got, want := withoutFirst(t, <-out), (Batch{Paths: []string{"chmodded"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("batch = %#v, want %#v", got, want)
	}
	if _, ok := <-out; ok {
		t.Fatal("out not closed")
	}
}

// withoutFirst checks that b has its First set and returns b without it.
func withoutFirst(t *testing.T, b Batch) Batch {
	t.Helper()
	if b.First.IsZero() {
		t.Errorf("batch %v has no First", b.Paths)
	}
	b.First = time.Time{}
	return b
}

// The backlog shows what waits out the delay and since when, says once
// that it is no longer empty, and is empty again once the batch is taken.
func TestCoalesceBacklog(t *testing.T) {
	clock := &fakeClock{now: t0}
	notify := make(chan struct{}, 1)
	bl := &Backlog{Notify: notify}
	in, out := make(chan Change), make(chan Batch)
	done := make(chan struct{})
	go func() {
		Coalesce(context.Background(), in, out, CoalesceOptions{Delay: 10 * time.Second, Clock: clock, Backlog: bl})
		close(done)
	}()
	in <- file("a")
	// The delay counts from when the coalescer arms its timer: wait for
	// it before moving the clock.
	testutil.Eventually(t, 5*time.Second, "the delay's timer", func() bool { return clock.armed() == 1 })
	clock.Advance(3 * time.Second)
	in <- file("b")
	testutil.Eventually(t, 5*time.Second, "two paths in the backlog", func() bool {
		n, _, _ := bl.Load()
		return n == 2
	})
	if _, full, first := bl.Load(); full || !first.Equal(t0) {
		t.Errorf("backlog full=%v first=%v, want the first change's time %v", full, first, t0)
	}
	select {
	case <-notify:
	default:
		t.Error("no notice when the backlog became non-empty")
	}
	select {
	case <-notify:
		t.Error("a second notice while the backlog stayed non-empty")
	default:
	}
	clock.Advance(7 * time.Second)
	if b := receive(t, out); len(b.Paths) != 2 {
		t.Fatalf("batch %v, want a and b", b.Paths)
	}
	testutil.Eventually(t, 5*time.Second, "an empty backlog", func() bool {
		n, full, first := bl.Load()
		return n == 0 && !full && first.IsZero()
	})
	close(in)
	<-done
}

// A rename within the tree goes out as a Move when both names are in the
// batch, and its new name in Renamed in any case; both come back with the
// batch when it is held.
func TestPendingMoves(t *testing.T) {
	now := time.Now()
	p := newPending(CoalesceOptions{})
	p.add(Change{Rel: "old", Op: Rename, IsDir: true}, now)
	p.add(Change{Rel: "a/new", Op: Create, IsDir: true, From: "old"}, now)
	p.add(Change{Rel: "f", Op: Rename}, now)
	p.add(Change{Rel: "g", Op: Create, From: "f"}, now)
	p.add(Change{Rel: "h", Op: Create, From: "gone-before"}, now) // its old name is not in the batch
	b := p.take()
	want := []Move{{From: "old", To: "a/new"}, {From: "f", To: "g"}}
	if !slices.Equal(b.Moves, want) {
		t.Fatalf("moves %v, want %v (paths %q)", b.Moves, want, b.Paths)
	}
	renamed := []string{"a/new", "g", "h"}
	if !slices.Equal(b.Renamed, renamed) {
		t.Errorf("renamed %q, want %q", b.Renamed, renamed)
	}
	p.addBatch(b)
	if again := p.take(); !slices.Equal(again.Moves, want) || !slices.Equal(again.Renamed, renamed) {
		t.Errorf("after addBatch: moves %v, renamed %q; want %v, %q", again.Moves, again.Renamed, want, renamed)
	}
	p.add(Change{Rel: "x", Op: Rename}, now)
	p.add(Change{Rel: "y", Op: Create, From: "x"}, now)
	p.setFull()
	// A full batch copies no moves, but its names are still sent by
	// content.
	if b := p.take(); !b.Full || b.Moves != nil || !slices.Equal(b.Renamed, []string{"y"}) {
		t.Errorf("a full batch: %+v, want no moves, y renamed", b)
	}
	// Past MaxPaths names, the rest are not listed, and the batch says so.
	p = newPending(CoalesceOptions{MaxPaths: 2})
	for _, n := range []string{"a", "b", "c"} {
		p.add(Change{Rel: n, Op: Create, From: n + "-old"}, now)
	}
	if b := p.take(); len(b.Renamed) != 2 || !b.RenamedLost {
		t.Errorf("three renames past MaxPaths 2: renamed %q, lost %v; want two and lost", b.Renamed, b.RenamedLost)
	}
}

// Chains, renames back, a new name changed again or taken where a change
// was pending: only the moves whose copy is what the run would send.
func TestPendingMovesChanged(t *testing.T) {
	now := time.Now()
	p := newPending(CoalesceOptions{})
	p.add(Change{Rel: "a", Op: Rename}, now) // a → b → c: c from a
	p.add(Change{Rel: "b", Op: Create, From: "a"}, now)
	p.add(Change{Rel: "b", Op: Rename}, now)
	p.add(Change{Rel: "c", Op: Create, From: "b"}, now)
	p.add(Change{Rel: "x", Op: Rename}, now) // x → y → x: nothing
	p.add(Change{Rel: "y", Op: Create, From: "x"}, now)
	p.add(Change{Rel: "y", Op: Rename}, now)
	p.add(Change{Rel: "x", Op: Create, From: "y"}, now)
	p.add(Change{Rel: "f", Op: Rename}, now) // f → g, then g written
	p.add(Change{Rel: "g", Op: Create, From: "f"}, now)
	p.add(Change{Rel: "g", Op: Write}, now)
	p.add(Change{Rel: "cur", Op: Remove}, now) // rm cur; mv stage cur
	p.add(Change{Rel: "stage", Op: Rename, IsDir: true}, now)
	p.add(Change{Rel: "cur", Op: Create, IsDir: true, From: "stage"}, now)
	b := p.take()
	if want := []Move{{From: "a", To: "c"}}; !slices.Equal(b.Moves, want) {
		t.Errorf("moves %v, want %v (paths %q)", b.Moves, want, b.Paths)
	}
	// Every new name, the moves left out included: under x and cur the
	// target may hold another file than the one renamed there.
	if want := []string{"b", "c", "cur", "g", "x", "y"}; !slices.Equal(b.Renamed, want) {
		t.Errorf("renamed %q, want %q", b.Renamed, want)
	}
}
