package watch

import (
	"sync/atomic"
	"time"
)

// paceStreak is how many events in a row, each within Options.Pace of the
// one before, make a stream: a file's rewrite (two events) is not one, a
// writer making files is.
const paceStreak = 3

// pacer decides when Run holds its intake. It belongs to Run's goroutine.
type pacer struct {
	pace   time.Duration
	clock  Clock
	last   time.Time
	streak int
	holds  *atomic.Int64 // counted for tests
}

// seen records one event and reports whether the events form a stream.
func (p *pacer) seen() bool {
	if p.pace <= 0 {
		return false
	}
	now := p.clock.Now()
	if now.Sub(p.last) < p.pace {
		p.streak++
	} else {
		p.streak = 0
	}
	p.last = now
	return p.streak >= paceStreak
}

// hold holds the intake for p.pace, then restarts the streak's clock, so
// that the events queued meanwhile count as following on at once. It waits
// on a timer: the Go scheduler goes on running every other goroutine
// (fsnotify's reader among them, which keeps taking events off the
// kernel's queue into its buffer, so nothing overflows meanwhile).
func (p *pacer) hold() {
	t := p.clock.NewTimer(p.pace)
	<-t.C()
	p.last = p.clock.Now()
	if p.holds != nil {
		p.holds.Add(1)
	}
}
