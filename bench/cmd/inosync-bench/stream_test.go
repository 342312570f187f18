package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The poller times each file from its own write, several at once: a file
// that lands late does not delay the others' figures, and one that never
// lands is +Inf once its time is up.
func TestPollLandings(t *testing.T) {
	dir := t.TempDir()
	in := make(chan landing, 3)
	out := make([]float64, 3)
	done := make(chan struct{})
	go func() {
		pollLandings(in, out, 500*time.Millisecond)
		close(done)
	}()
	t0 := time.Now()
	for i := range 3 {
		in <- landing{i: i, dst: filepath.Join(dir, string(rune('a'+i))), want: latencyContent(i), t0: t0}
	}
	close(in)
	// b lands first, then a; c never does.
	if err := os.WriteFile(filepath.Join(dir, "b"), latencyContent(1), 0o644); err != nil {
		t.Fatal(err)
	}
	for time.Since(t0) < 100*time.Millisecond {
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), latencyContent(0), 0o644); err != nil {
		t.Fatal(err)
	}
	<-done
	if !(out[1] > 0 && out[1] < out[0]) {
		t.Errorf("b landed first: latencies a %.1f ms, b %.1f ms", out[0], out[1])
	}
	if out[0] < 100 || math.IsInf(out[0], 1) {
		t.Errorf("a landed after 100 ms: got %.1f ms", out[0])
	}
	if !math.IsInf(out[2], 1) {
		t.Errorf("c never landed: got %.1f ms, want +Inf", out[2])
	}
}
