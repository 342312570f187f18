package rsync

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// warmRsync is an rsync process started ahead of need for a job's next
// list run: it has exec'd, forked its receiver and shaken hands, and waits
// for its file list on stdin, so that a change skips rsync's start-up
// (bench/findings.md has the figures). It costs no CPU while it waits.
type warmRsync struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *os.File // rsync's stderr, and its stdout less the marker
	// transferred is closed when rsync says its transfer is complete (see
	// transferredMarker); read is closed once its stdout is read to the end.
	transferred, read chan struct{}
	argv              []string
	prefix            string
}

// startWarm starts a list-run rsync for job j that waits for its list;
// kill ends it.
func startWarm(kill context.Context, j Job) (*warmRsync, error) {
	argv, prefix := WaitingListArgv(j.Settings, j.Path, j.Dest)
	argv = insertBeforeOperands(argv, []string{transferredOption})
	out, err := unlinkedTemp()
	if err != nil {
		return nil, err
	}
	// A pipe for stdout, to see the marker as it comes. A local rsync
	// leaves no ssh master behind to hold it open (see execCold).
	pr, pw, err := os.Pipe()
	if err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("rsync output pipe: %w", err)
	}
	cmd := command(kill, argv, nil)
	cmd.Stdout, cmd.Stderr = pw, out
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	_ = pw.Close()
	if err != nil {
		_, _ = pr.Close(), out.Close()
		return nil, fmt.Errorf("cannot run %s: %w", argv[0], err)
	}
	w := &warmRsync{cmd: cmd, stdin: stdin, out: out, transferred: make(chan struct{}), read: make(chan struct{}), argv: argv, prefix: prefix}
	go w.readStdout(pr)
	return w, nil
}

// transferredOption makes rsync say when its transfer is complete: the
// client prints transferredMarker once the receiving side has sent its
// final goodbye, which it does after the last file is in place and the
// directories' times are set. What follows is rsync's exit, in which its
// processes poll each other every 20 ms. (rsync 3.1.0 and later have
// --debug; the list runs already need 3.1.3 for --modify-window=-1.)
const (
	transferredOption = "--debug=EXIT2"
	transferredMarker = "client_run waiting on " // then the child's PID, alone on its line
	exitDebug         = "_exit_cleanup("         // the option's other lines, not kept
)

// isTransferredMarker reports whether line is exactly transferredMarker and
// a PID: with -v in extra, rsync lists file names on the same stdout, and a
// file named like the marker must not mark the run transferred.
func isTransferredMarker(line string) bool {
	pid, ok := strings.CutPrefix(line, transferredMarker)
	if !ok || pid == "" {
		return false
	}
	for _, c := range pid {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// readStdout copies rsync's stdout to w.out, less the lines transferredOption
// adds, and closes w.transferred at the marker.
func (w *warmRsync) readStdout(pr *os.File) {
	defer close(w.read)
	defer pr.Close()
	transferred := false
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !transferred && isTransferredMarker(line):
			transferred = true
			close(w.transferred)
			continue
		case strings.Contains(line, exitDebug):
			continue
		}
		_, _ = w.out.WriteString(line + "\n")
	}
	_, _ = io.Copy(w.out, pr) // after a line too long for the scanner: kept as is
}

// drained waits until rsync's stdout has been read to the end, or until
// kill is done: a process that outlives the rsync client (a receiver stuck
// on a hung disk, which the kill does not reach) keeps the pipe open.
func (w *warmRsync) drained(kill <-chan struct{}) {
	select {
	case <-w.read:
	case <-kill:
	}
}

// retire ends a warm rsync that will not be used: an empty list makes it
// transfer nothing and exit. kill is the dispatcher's (see drained).
func (w *warmRsync) retire(kill <-chan struct{}) {
	_ = w.stdin.Close()
	_ = wait(w.cmd)
	w.drained(kill)
	_ = w.out.Close()
}

// warmable reports whether a job's list runs may use a warm rsync: a local
// destination (a kept remote process would hold a connection that may be
// dropped while it waits), real runs, and runs for lists (see wholeOnly).
func (d *dispatcher) warmable(j *jobState) bool {
	return d.o.Warm && !d.o.Pretend && !IsRemote(j.Dest) && !j.wholeOnly
}

// warmListMax is the longest list a warm rsync takes. Its names are longer
// by the base's path (see WaitingListArgv), and rsync reads them a byte at
// a time: past a few hundred paths that costs as much as the start-up of a
// new rsync, which the warm one saves (bench/findings.md).
const warmListMax = 64

// warmDelay is how long after handing a warm rsync its list a job starts
// the next one, so that the next one's start-up (exec, loading its
// libraries, forking its receiver) does not compete for the CPU with the
// transfer it is to speed up.
const warmDelay = 5 * time.Millisecond

// warmRetry is how long a job waits before it asks for a warm rsync
// again after one could not be started.
const warmRetry = time.Second

// warmStart is what a goroutine starting a warm rsync reports.
type warmStart struct {
	job *jobState
	gen int // the job's settings generation it was started with
	w   *warmRsync
	err error
}

// warmWant is how many warm rsyncs job j keeps at now: one, or two while
// its changes come in a stream (its last two list runs started less than
// Options.StreamGap apart, the last one less than that ago). On a machine
// whose cores are busy, a warm rsync takes longer to start (40–70 ms with
// two cores busy) than changes 30 ms apart leave it, and a list handed to
// one that is still starting waits for its start-up; the second one has
// had the time of two changes.
func (d *dispatcher) warmWant(j *jobState, now time.Time) int {
	if j.streaming && now.Sub(j.listed) < d.o.StreamGap {
		return 2
	}
	return 1
}

// warmMax is how many warm rsyncs may wait (or be starting) at once. A
// config of many trees would otherwise keep as many idle processes, and
// start them all at once at start-up; the jobs that started a list run
// most recently keep theirs (see keepWarm).
const warmMax = 8

// keepWarm keeps the warm rsyncs the jobs want: it retires a second one
// kept past its stream (dropSpares) and asks for what the warmMax jobs
// that listed most recently (of those that may have one) lack (askWarm). A timer brings the loop back when a job may ask again or a
// stream ends.
func (d *dispatcher) keepWarm() {
	now := time.Now()
	ranked := d.wantWarm[:0]
	for _, j := range d.jobs {
		if !j.gaveUp && !j.removed && d.warmable(j) {
			ranked = append(ranked, j)
		}
	}
	slices.SortStableFunc(ranked, func(a, b *jobState) int { return b.listed.Compare(a.listed) })
	entitled, others := ranked[:min(len(ranked), warmMax)], ranked[min(len(ranked), warmMax):]
	next := earliest(d.dropSpares(ranked, now), d.askWarm(entitled, others, now))
	clear(ranked)
	d.wantWarm = ranked[:0]
	if !next.IsZero() && (d.warmC == nil || next.Before(d.warmDue)) {
		if d.warmTimer == nil {
			d.warmTimer = time.NewTimer(next.Sub(now))
		} else {
			d.warmTimer.Reset(next.Sub(now))
		}
		d.warmC, d.warmDue = d.warmTimer.C, next
	}
}

// dropSpares retires the warm rsyncs each of jobs holds past warmWant
// (a second one, once its stream is over), the newest first, and returns
// when the first stream still going ends (zero if none).
func (d *dispatcher) dropSpares(jobs []*jobState, now time.Time) time.Time {
	var next time.Time
	for _, j := range jobs {
		want := d.warmWant(j, now)
		for len(j.warm) > want {
			d.retireWarm(d.takeNewestWarm(j))
		}
		if want > 1 {
			next = earliest(next, j.listed.Add(d.o.StreamGap))
		}
	}
	return next
}

// askWarm asks for the warm rsyncs entitled jobs lack, up to warmWant
// each, while the process bound leaves room (a warm rsync counts from the
// moment it is asked for): first one for each job, then the second ones.
// A job that lacks its first one at the bound has another job's second
// one retired for it; at warmMax, a second one or else one a job in
// others holds. A second one only fits below the bound and warmMax. Each is started in a goroutine that reports on
// warmStarted. A job that handed one a list less than warmDelay ago
// waits, keeping its place: askWarm returns the earliest such time (zero
// if none).
func (d *dispatcher) askWarm(entitled, others []*jobState, now time.Time) time.Time {
	var next time.Time
	for n := 1; n <= 2; n++ {
		for _, j := range entitled {
			has := len(j.warm) + j.warmStarting
			if j.waiting || has >= min(n, d.warmWant(j, now)) {
				continue
			}
			if now.Before(j.warmAt) {
				next = earliest(next, j.warmAt)
				continue
			}
			if d.procs() >= d.maxProcs() {
				if h := leastRecentHolding(entitled, 2); has == 0 && h != nil {
					d.retireWarm(d.takeNewestWarm(h)) // its slot comes back once it has exited
				}
				return next
			}
			if d.warmWaiting+d.warmStarting >= warmMax {
				if has > 0 {
					continue // a second one waits for room
				}
				h := leastRecentHolding(entitled, 2)
				if h == nil {
					h = leastRecentHolding(others, 1)
				}
				if h == nil {
					return next
				}
				d.retireWarm(d.takeNewestWarm(h))
			}
			j.warmStarting++
			d.warmStarting++
			gen := j.gen
			go func(j *jobState, job Job) {
				w, err := d.warmStarter(d.kill, job)
				report(d, d.warmStarted, warmStart{j, gen, w, err})
			}(j, j.Job)
		}
	}
	return next
}

// earliest returns the earlier of two times, a zero one counting as none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// leastRecentHolding returns the job of jobs that holds at least n
// waiting warm rsyncs and listed least recently, or nil: with n = 2, a
// job with a second one to spare.
func leastRecentHolding(jobs []*jobState, n int) *jobState {
	var oldest *jobState
	for _, j := range jobs {
		if len(j.warm) >= n && (oldest == nil || j.listed.Before(oldest.listed)) {
			oldest = j
		}
	}
	return oldest
}

// warmReady books a warm rsync that has started (or failed to): it waits
// for its job's next list, or is retired when the dispatcher is stopping
// or the job has given up.
func (d *dispatcher) warmReady(s warmStart, draining bool) {
	j := s.job
	j.warmStarting--
	d.warmStarting--
	if s.err != nil {
		j.warmAt = time.Now().Add(warmRetry)
		d.o.Logger.Debug().Err(s.err).Str("path", j.Path).Str("node", nodeName(j.Node)).Msg("no warm rsync")
		return
	}
	if draining || j.gaveUp || j.removed || s.gen != j.gen {
		d.retireWarm(s.w) // or started with settings since replaced
		return
	}
	j.warm = append(j.warm, s.w)
	d.warmWaiting++
}

// retireWarm ends a warm rsync that will not be used, in a goroutine: it
// counts against MaxProcs until warmRetired says it has exited.
func (d *dispatcher) retireWarm(w *warmRsync) {
	d.warmRetiring++
	go func() {
		w.retire(d.kill.Done())
		report(d, d.warmRetired, struct{}{})
	}()
}

// takeWarm takes job j's oldest waiting warm rsync (nil if none) from it:
// the one most likely to have finished its start-up.
func (d *dispatcher) takeWarm(j *jobState) *warmRsync {
	if len(j.warm) == 0 {
		return nil
	}
	w := j.warm[0]
	j.warm = slices.Delete(j.warm, 0, 1)
	d.warmWaiting--
	return w
}

// retireAllWarm retires every warm rsync job j holds.
func (d *dispatcher) retireAllWarm(j *jobState) {
	for w := d.takeWarm(j); w != nil; w = d.takeWarm(j) {
		d.retireWarm(w)
	}
}

// takeNewestWarm takes job j's newest waiting warm rsync (nil if none)
// from it: of those it holds, the one to retire.
func (d *dispatcher) takeNewestWarm(j *jobState) *warmRsync {
	if len(j.warm) == 0 {
		return nil
	}
	w := j.warm[len(j.warm)-1]
	j.warm = slices.Delete(j.warm, len(j.warm)-1, len(j.warm))
	d.warmWaiting--
	return w
}

// reclaimWarm retires one waiting warm rsync to free a process slot: a
// second one, or else the one of the job that listed least recently.
func (d *dispatcher) reclaimWarm() {
	j := leastRecentHolding(d.jobs, 2)
	if j == nil {
		j = leastRecentHolding(d.jobs, 1)
	}
	if j != nil {
		d.retireWarm(d.takeNewestWarm(j))
	}
}

// endWarm, at the end of Dispatch, retires every warm rsync and waits
// until every one being started or retired has exited.
func (d *dispatcher) endWarm() {
	for _, j := range d.jobs {
		d.retireAllWarm(j)
	}
	if d.warmStarting == 0 && d.warmRetiring == 0 {
		return
	}
	// A process that outlives the rsync client (a receiver stuck on a
	// hung disk) keeps a retirement waiting: past StopTimeout it is killed.
	t := time.NewTimer(d.o.StopTimeout)
	defer t.Stop()
	for d.warmStarting > 0 || d.warmRetiring > 0 {
		select {
		case s := <-d.warmStarted:
			d.warmReady(s, true)
		case <-d.warmRetired:
			d.warmRetiring--
		case <-t.C:
			d.cancel()
		}
	}
}
