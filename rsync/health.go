package rsync

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// record is a job's history as the status and the logs tell it. Only the
// dispatcher goroutine touches it.
type record struct {
	lastSuccess  time.Time
	failingSince time.Time
	lastExit     int
	lastError    string
	nextRetry    time.Time
	failed       int
	durations    []uint64 // runs per bucket of DurationBuckets, and one more
	durationSum  float64
	// reportAt is when a job that keeps failing is reported again;
	// reportEvery is the interval after that, doubled per report.
	reportAt    time.Time
	reportEvery time.Duration
	// cause is what the last logged failure was (see failureCause): a
	// failure for another cause is logged at once.
	cause string
}

// First and longest intervals between two reports of a job that keeps
// failing: one line per interval, not one per retry.
const (
	reportFirst = time.Minute
	reportMax   = time.Hour
)

// observe books one run's duration.
func (r *record) observe(took time.Duration) {
	if r.durations == nil {
		r.durations = make([]uint64, len(DurationBuckets)+1)
	}
	s := took.Seconds()
	r.durations[sort.SearchFloat64s(DurationBuckets, s)]++
	r.durationSum += s
}

// status is the job's state and record now.
func (j *jobState) status() JobStatus {
	s := JobStatus{
		Tree: j.Tree, Path: j.Path, Node: nodeName(j.Node), Dest: j.Dest,
		Pending: j.held(), Full: j.full, Running: len(j.runs),
		Oldest: j.oldest(), LastSuccess: j.rec.lastSuccess, FailingSince: j.rec.failingSince,
		Failures: j.failures, LastExit: j.rec.lastExit, LastError: j.rec.lastError,
		Failed: j.rec.failed, DurationSum: j.rec.durationSum,
		Durations: make([]uint64, len(DurationBuckets)+1),
	}
	copy(s.Durations, j.rec.durations)
	for _, n := range s.Durations {
		s.Runs += int(n)
	}
	if j.waiting {
		s.NextRetry = j.rec.nextRetry
	}
	for _, r := range j.runs {
		s.Full = s.Full || r.full
	}
	s.Unreadable = j.unreadable.status()
	s.After = j.after.status(j.After)
	switch {
	case j.failures > 0:
		s.State = StateFailing
	case j.initial || j.runningInitial():
		s.State = StateInitial
	case len(j.runs) > 0:
		s.State = StateRunning
	case j.hasPending():
		s.State = StatePending
	default:
		s.State = StateInSync
	}
	return s
}

// oldest is when the oldest change the job has not yet synced was seen.
func (j *jobState) oldest() time.Time {
	t := time.Time{}
	if j.hasPending() {
		t = j.since
	}
	for _, r := range j.runs {
		if !r.since.IsZero() && (t.IsZero() || r.since.Before(t)) {
			t = r.since
		}
	}
	return t
}

func (j *jobState) runningInitial() bool {
	for _, r := range j.runs {
		if r.initial {
			return true
		}
	}
	return false
}

// lastLine is the last non-empty line of rsync's output: usually what
// went wrong.
func lastLine(out string) string {
	out = strings.TrimSpace(out)
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	return strings.TrimSpace(out)
}

// failureLine is what the status says of a failed run to dest: the remote
// shell's words when a remote node's run never got past login; rsync's
// first error for a fault of the config, a partial transfer or a file I/O
// error ("rsync: --x: unknown option", "rsync: [receiver] mkstemp …
// failed: Read-only file system", "… write failed on …: No space left on
// device" say more than the summary); else rsync's last line, or the
// run's error when rsync said nothing.
func failureLine(dest string, r result) string {
	line := ""
	switch {
	case IsRemote(dest) && loginFailed(r):
		line = remoteShellError(r.stderr)
	case configFault(r.exit) || r.exit == exitPartial || r.exit == exitFileIO:
		line = firstError(r.stderr)
	}
	if line == "" {
		line = lastLine(r.stderr)
	}
	if line == "" && r.err != nil {
		line = r.err.Error()
	}
	return line
}

// errorLine is rsync's first error line in out, or its last line.
func errorLine(out string) string {
	if line := firstError(out); line != "" {
		return line
	}
	return lastLine(out)
}

// firstError is the first line of rsync's output that begins "rsync: ",
// or "": of several, not one that only says the other process of the
// pair went away (a broken pipe, a reset connection), which follows the
// error that ended it, in an order the processes' writes decide.
func firstError(out string) string {
	first := ""
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "rsync: ") {
			continue
		}
		line = strings.TrimSpace(line)
		if !strings.HasSuffix(line, "Broken pipe (32)") && !strings.HasSuffix(line, "Connection reset by peer (104)") {
			return line
		}
		if first == "" {
			first = line
		}
	}
	return first
}

// loginFailed reports whether a failed run never got past the remote
// shell: ssh's own failure (255), or a stream that closed before rsync
// received a byte (12), and not a run killed for moving no data. Its
// output is then short, and the remote shell's words say why.
func loginFailed(r result) bool {
	var idle *idleError
	if errors.As(r.err, &idle) {
		return false
	}
	return r.exit == exitRemoteShell || r.exit == exitStream && strings.Contains(r.stderr, "(0 bytes received so far)")
}

// remoteShellError is the last line of rsync's output before rsync's own
// first one ("rsync: connection unexpectedly closed", "rsync error: …")
// that rsync did not write: the remote shell's words when a node could not
// be reached ("ssh: connect to host … Connection refused", "Permission
// denied (publickey)."), which rsync's summary does not say; "" when
// there is none. ssh's notice of a host key it added is not an error.
func remoteShellError(out string) string {
	said := ""
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "rsync: "), strings.HasPrefix(line, "rsync error: "):
			return said
		case line == "", strings.HasPrefix(line, "["), strings.HasPrefix(line, "Warning: Permanently added"):
			continue
		}
		said = line
	}
	return said
}

// unreachable reports whether an rsync exit status means that the node
// could not be reached or the connection broke.
func unreachable(exit int) bool {
	switch exit {
	case exitSocketIO, exitStream, exitTimeout, exitConnectTimeout, exitRemoteShell:
		return true
	}
	return false
}

// failureCause says what a failed run failed for, so that a job that
// keeps failing is logged again at once when the cause changes (a source
// unmounted, then mounted again empty; a node unreachable, then
// refusing): a refusal by its reason, a node that cannot be reached as
// one cause whichever of its exits rsync gives (a refused login comes as
// 12 and 255 in turn), any other failure by rsync's exit.
func failureCause(r result) string {
	switch {
	case r.exit == exitRefused && r.err != nil:
		return r.err.Error()
	case unreachable(r.exit):
		return "unreachable"
	}
	return strconv.Itoa(r.exit)
}

// reportFailure logs a failed run: the first failure of a series at
// once, and one for another cause than the last logged (failureCause),
// then one line per growing interval while the job keeps failing.
func (d *dispatcher) reportFailure(j *jobState, r result, wait time.Duration, now time.Time) {
	lg := d.jobLogger(j)
	if configFault(r.exit) {
		// Each time: nothing changes until the config does.
		lg.Error().Int("exit", r.exit).Int("failures", j.failures).Str("error", j.rec.lastError).Int64("retry_in_ms", wait.Milliseconds()).
			Msgf("%s: fix the config and reload; retrying every %s meanwhile", faultWords(r.exit), wait.Round(time.Second))
		return
	}
	cause := failureCause(r)
	changed := j.failures > 1 && cause != j.rec.cause
	j.rec.cause = cause
	if (j.failures == 1 || changed) && r.exit == exitRefused {
		j.rec.reportEvery = reportFirst
		j.rec.reportAt = now.Add(reportFirst)
		lg.Error().Err(r.err).Int64("retry_in_ms", wait.Milliseconds()).Msg("sync refused to keep the target safe; checking again")
		return
	}
	if j.failures == 1 || changed {
		j.rec.reportEvery = reportFirst
		j.rec.reportAt = now.Add(reportFirst)
		e := lg.Warn().Err(r.err).Int("exit", r.exit).Int64("duration_ms", r.took.Milliseconds()).
			Int64("retry_in_ms", wait.Milliseconds()).Str("stderr", r.stderr)
		addWhat(e, r.paths, r.full).Msg("rsync failed; will retry")
		return
	}
	if now.Before(j.rec.reportAt) {
		lg.Debug().Err(r.err).Int("exit", r.exit).Int("failures", j.failures).Msg("rsync failed again")
		return
	}
	j.rec.reportEvery = min(2*j.rec.reportEvery, reportMax)
	j.rec.reportAt = now.Add(j.rec.reportEvery)
	what := "failing"
	switch {
	case unreachable(r.exit):
		what = "unreachable"
	case r.exit == exitRefused:
		what = "refused"
	}
	pending, age := j.held(), now.Sub(j.oldest())
	lg.Warn().Int("exit", r.exit).Int("failures", j.failures).Str("error", j.rec.lastError).
		Int("pending", pending).Bool("full", j.full).Float64("oldest_s", age.Seconds()).
		Msgf("node %s %s since %s: %s pending, oldest %s", nodeName(j.Node), what,
			j.rec.failingSince.Format("15:04:05"), pendingWords(pending, j.full), age.Round(time.Second))
}

// reportRecovery logs that a job synced again after failures.
func (d *dispatcher) reportRecovery(j *jobState, r result, now time.Time) {
	lg := d.jobLogger(j)
	lg.Info().Int("failures", j.failures).Float64("down_s", now.Sub(j.rec.failingSince).Seconds()).
		Msgf("node %s recovered after %s: %s synced", nodeName(j.Node),
			now.Sub(j.rec.failingSince).Round(time.Second), pendingWords(len(r.paths), r.full))
}

// held is the number of paths the job holds back: pending, and those of
// its runs.
func (j *jobState) held() int {
	n := len(j.pending)
	for _, r := range j.runs {
		n += len(r.paths)
	}
	return n
}

func pendingWords(n int, full bool) string {
	switch {
	case full:
		return "a full sync"
	case n == 1:
		return "1 path"
	}
	return strconv.Itoa(n) + " paths"
}

// jobLogger is the logger of one job's lines.
func (d *dispatcher) jobLogger(j *jobState) zerolog.Logger {
	return d.o.Logger.With().Str("path", j.Path).Str("node", nodeName(j.Node)).Logger()
}

// addWhat adds what a run carried to a log line: the number of files of a
// list run (and full=false), full=true for a full one.
func addWhat(e *zerolog.Event, paths []string, full bool) *zerolog.Event {
	if full {
		return e.Bool("full", true)
	}
	return e.Int("files", len(paths)).Bool("full", false)
}
