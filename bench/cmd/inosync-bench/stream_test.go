package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The poller times each file from its own write, several at once: a file
// that lands late does not delay the others' figures, one already there
// when the poller hears of it counts from its write, and one that never
// lands is +Inf once its time is up.
func TestPollLandings(t *testing.T) {
	dir := t.TempDir()
	in := make(chan landing, 4)
	out := make([]float64, 4)
	done := make(chan struct{})
	go func() {
		pollLandings(in, out, 2*time.Second)
		close(done)
	}()
	t0 := time.Now()
	early := filepath.Join(dir, "d")
	if err := os.WriteFile(early, latencyContent(3), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		in <- landing{i: i, dst: filepath.Join(dir, string(rune('a'+i))), want: latencyContent(i), t0: t0}
	}
	in <- landing{i: 3, dst: early, want: latencyContent(3), t0: t0.Add(-50 * time.Millisecond)}
	close(in)
	// b lands at once, a after 200 ms; c never does.
	if err := os.WriteFile(filepath.Join(dir, "b"), latencyContent(1), 0o644); err != nil {
		t.Fatal(err)
	}
	for time.Since(t0) < 200*time.Millisecond {
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), latencyContent(0), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the poller did not return")
	}
	if !(out[1] > 0 && out[1] < out[0]) {
		t.Errorf("b landed first: latencies a %.1f ms, b %.1f ms", out[0], out[1])
	}
	if out[0] < 200 || math.IsInf(out[0], 1) {
		t.Errorf("a landed after 200 ms: got %.1f ms", out[0])
	}
	if !math.IsInf(out[2], 1) {
		t.Errorf("c never landed: got %.1f ms, want +Inf", out[2])
	}
	if out[3] < 50 {
		t.Errorf("d was there 50 ms after its write: got %.1f ms", out[3])
	}
}

// The writer keeps its schedule while files have not landed yet, and a
// write that fails is NaN.
func TestLatencyStreamDoesNotWait(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	const delay = 300 * time.Millisecond
	stop := make(chan struct{})
	defer close(stop)
	go copyLate(src, dst, delay, stop) // a daemon that takes 300 ms a file
	b := &bench{}
	lat, at := b.latencyStream(3, 10*time.Millisecond, func(i int) (string, string) {
		name := string(rune('a' + i))
		if i == 2 {
			return filepath.Join(src, "missing", name), filepath.Join(dst, name)
		}
		return filepath.Join(src, name), filepath.Join(dst, name)
	})
	if d := at[1].Sub(at[0]); d >= delay {
		t.Errorf("write 1 began %v after write 0: the writer waited for it to land", d)
	}
	for i := range 2 {
		if lat[i] < float64(delay/time.Millisecond) || math.IsInf(lat[i], 1) {
			t.Errorf("file %d landed %v after its write: got %.1f ms", i, delay, lat[i])
		}
	}
	if !math.IsNaN(lat[2]) {
		t.Errorf("a write into a missing directory: got %.1f ms, want NaN", lat[2])
	}
}

// copyLate copies each regular file that appears in src to dst once it
// has been there for delay, until stop is closed.
func copyLate(src, dst string, delay time.Duration, stop <-chan struct{}) {
	seen := map[string]time.Time{}
	for {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
		entries, _ := os.ReadDir(src)
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			first, ok := seen[e.Name()]
			if !ok {
				seen[e.Name()] = time.Now()
				continue
			}
			if first.IsZero() || time.Since(first) < delay {
				continue
			}
			if data, err := os.ReadFile(filepath.Join(src, e.Name())); err == nil {
				_ = os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644)
				seen[e.Name()] = time.Time{}
			}
		}
	}
}
