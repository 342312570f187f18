package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

func TestPacerStreak(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	p := pacer{pace: 500 * time.Microsecond, clock: clock}
	// A rewrite: two events 50 µs apart, then quiet. Never a stream.
	for range 3 {
		if p.seen() {
			t.Fatal("first event of a rewrite counted as a stream")
		}
		clock.Advance(50 * time.Microsecond)
		if p.seen() {
			t.Fatal("second event of a rewrite counted as a stream")
		}
		clock.Advance(50 * time.Millisecond)
	}
	// A writer: an event every 100 µs is a stream from the fourth on.
	var got []bool
	for range 6 {
		got = append(got, p.seen())
		clock.Advance(100 * time.Microsecond)
	}
	if want := fmt.Sprint([]bool{false, false, false, true, true, true}); fmt.Sprint(got) != want {
		t.Fatalf("stream of events 100 µs apart: seen = %v, want %v", got, want)
	}
	// A pause longer than the pace ends the stream.
	clock.Advance(time.Millisecond)
	if p.seen() {
		t.Fatal("an event after a pause still counted as a stream")
	}
	// Pace 0 is off.
	off := pacer{clock: clock}
	for range 10 {
		if off.seen() {
			t.Fatal("pace 0 held the intake")
		}
	}
}

// After a hold, the events queued meanwhile follow on at once: the clock
// restarts when the hold ends.
func TestPacerHoldRestartsStreak(t *testing.T) {
	p := pacer{pace: 2 * time.Millisecond, clock: SystemClock{}}
	p.streak = paceStreak
	start := time.Now()
	p.hold()
	if d := time.Since(start); d < p.pace {
		t.Fatalf("hold returned after %v, want at least %v", d, p.pace)
	}
	if !p.seen() {
		t.Fatal("an event read right after a hold did not continue the stream")
	}
}

// A writer making files as fast as it can makes a stream: Run holds its
// intake between reads, and still reports every file.
func TestRunPacedBurst(t *testing.T) {
	root := t.TempDir()
	w := newWatcher(t, Options{Root: root + "/", Trigger: allFileOps, Pace: 500 * time.Microsecond})
	r := run(t, w)
	const n = 500
	for i := range n {
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("f%d", i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Eventually(t, 10*time.Second, "every file reported", func() bool {
		for i := range n {
			if !r.has(Change{Rel: fmt.Sprintf("f%d", i), Op: Write}) {
				return false
			}
		}
		return true
	})
	if w.in.holds.Load() == 0 {
		t.Fatalf("%d files written in a loop: Run never held its intake", n)
	}
	t.Logf("%d files, %d holds", n, w.in.holds.Load())
}
