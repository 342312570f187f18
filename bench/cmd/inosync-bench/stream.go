package main

import (
	"bytes"
	"math"
	"os"
	"time"
)

// landing is one write of a stream that the poller looks for on the
// target: its index, the target file, the bytes it must hold, and when
// the write began.
type landing struct {
	i    int
	dst  string
	want []byte
	t0   time.Time
}

// latencyStream writes n new files gap apart whatever the daemon does:
// write i at start + i·gap, or as soon as the writer gets a CPU when it is
// late, never waiting for an earlier file to land. A writer that waited
// would give a slower daemon a lighter load, its writes further apart
// than gap (coordinated omission), and so hide the queueing a real writer
// causes. It returns each file's latency in ms (from just before its
// create until the target holds the same bytes, read back every 250 µs),
// +Inf for a file that has not landed writeTimeout after its write, NaN
// for a write that failed, and when each write began.
func (b *bench) latencyStream(n int, gap time.Duration, path func(i int) (src, dst string)) ([]float64, []time.Time) {
	out := make([]float64, n)
	at := make([]time.Time, n)
	pending := make(chan landing, n)
	done := make(chan struct{})
	go func() {
		pollLandings(pending, out, writeTimeout)
		close(done)
	}()
	start := time.Now()
	var lag time.Duration // the most the writer fell behind its schedule
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(i) * gap)
		if w := time.Until(due); w > 0 {
			pollSleep(w)
		}
		src, dst := path(i)
		want := latencyContent(i)
		at[i] = time.Now()
		lag = max(lag, at[i].Sub(due))
		if err := os.WriteFile(src, want, 0o644); err != nil {
			b.note("latency write %s: %v", src, err)
			out[i] = math.NaN()
			continue
		}
		pending <- landing{i: i, dst: dst, want: want, t0: at[i]}
	}
	close(pending)
	<-done
	if lag > gap {
		// Starved of CPU itself, the writer wrote files closer together
		// afterwards: the load was not what the row says.
		b.note("the writer fell %v behind its schedule of one file every %v", lag.Round(time.Millisecond), gap)
	}
	return out, at
}

// pollLandings reads back every file it is given, every 250 µs, until it
// holds its bytes (its latency goes to out) or timeout has passed since
// its write (+Inf); it returns when in is closed and every file is done.
func pollLandings(in <-chan landing, out []float64, timeout time.Duration) {
	var wait []landing
	open := true
	for open || len(wait) > 0 {
		if len(wait) == 0 {
			l, ok := <-in
			if !ok {
				return
			}
			wait = append(wait, l)
		}
	drain:
		for open {
			select {
			case l, ok := <-in:
				if !ok {
					open = false
					break drain
				}
				wait = append(wait, l)
			default:
				break drain
			}
		}
		left := wait[:0]
		for _, l := range wait {
			got, err := os.ReadFile(l.dst)
			now := time.Now()
			switch {
			case err == nil && bytes.Equal(got, l.want):
				out[l.i] = float64(now.Sub(l.t0)) / 1e6
			case now.Sub(l.t0) > timeout:
				out[l.i] = inf
			default:
				left = append(left, l)
			}
		}
		wait = left
		if len(wait) > 0 {
			pollSleep(pollLatency)
		}
	}
}
