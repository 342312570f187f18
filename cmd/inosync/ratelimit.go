package main

import "time"

// rateLimit turns change notices into at most one action per interval:
// mark says something changed, due delivers when the action may run, and
// take says whether it has anything to do. While nothing changes no timer
// runs. Only the supervisor's goroutine uses it.
type rateLimit struct {
	interval time.Duration
	dirty    bool
	last     time.Time // when the action last ran
	timer    *time.Timer
	timerC   <-chan time.Time
}

// mark notes a change and arms the timer for the next action, if none is
// armed: at once when the last action is an interval old.
func (r *rateLimit) mark() {
	r.dirty = true
	if r.timerC != nil {
		return
	}
	wait := max(time.Until(r.last.Add(r.interval)), 0)
	if r.timer == nil {
		r.timer = time.NewTimer(wait)
	} else {
		r.timer.Reset(wait)
	}
	r.timerC = r.timer.C
}

// due delivers when an action is due; nil (never) when none is.
func (r *rateLimit) due() <-chan time.Time { return r.timerC }

// take is called when due has fired, or to act at once: it disarms the
// timer and reports whether anything changed since the last action, which
// it then counts as done.
func (r *rateLimit) take() bool {
	if r.timer != nil {
		r.timer.Stop() // a value it sent and nobody read is dropped (Go 1.23 timers)
	}
	r.timerC = nil
	if !r.dirty {
		return false
	}
	r.dirty = false
	r.last = time.Now()
	return true
}

// stop ends the timer.
func (r *rateLimit) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
}
