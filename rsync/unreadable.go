package rsync

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/inosync/inosync/rsync/operand"
)

// A path of a tree that rsync cannot read (a directory or file that the
// daemon's user may not read) makes every run that carries it exit 23.
// Retrying the whole run with backoff would hold up every other change of
// the tree with it, so such a path is set aside instead: the runs leave it
// out (see unreadableSet.leaveOut) and it is tried again on its own
// backoff, while the rest goes on at once.

// unreadablePath is the book on one path set aside.
type unreadablePath struct {
	since    time.Time // the first failure
	failures int
	err      string    // what rsync said about it the last time
	retryAt  time.Time // when it is tried again
	dir      bool      // rsync could not open it as a directory
	// retrying: it is back in the pending paths for a try, and runs
	// carry it again.
	retrying bool
}

// unreadableSet is a job's set-aside paths, by their path in the tree
// (without a trailing slash).
type unreadableSet map[string]*unreadablePath

// leaveOut removes from paths those that a set-aside path covers (they are
// synced with it when it is tried again), and returns the set-aside paths
// that the run must exclude: all those not being retried.
func (u unreadableSet) leaveOut(paths []string) (kept, exclude []string) {
	for rel, p := range u {
		if !p.retrying {
			exclude = append(exclude, rel)
		}
	}
	if len(exclude) == 0 {
		return paths, nil
	}
	slices.Sort(exclude)
	kept = paths[:0:0]
	for _, p := range paths {
		if !coveredBy(strings.TrimSuffix(p, "/"), exclude) {
			kept = append(kept, p)
		}
	}
	return kept, exclude
}

// coveredBy reports whether rel is one of dirs or lies below one.
func coveredBy(rel string, dirs []string) bool {
	for _, d := range dirs {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// carried reports whether a run with paths (or a full run) carried rel.
func carried(rel string, paths []string, full bool) bool {
	if full {
		return true
	}
	for _, p := range paths {
		d := strings.TrimSuffix(p, "/")
		if rel == d || (strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p)) {
			return true
		}
	}
	return false
}

// excludeOptions are the filter rules that leave the set-aside paths rels
// of a tree with source out of a run, anchored at the transfer root: each
// is protected on the target (so that the last copy of a path that cannot
// be read stays there, also with --delete-excluded in extra) and excluded
// on the source. They go before extra's own rules, since rsync takes the
// first rule that matches.
func excludeOptions(source string, rels []string) []string {
	_, prefix := operand.Root(source)
	opts := make([]string, 0, 2*len(rels))
	for _, rel := range rels {
		pat := anchoredPattern(prefix + rel)
		opts = append(opts, "--filter=P "+pat, "--exclude="+pat)
	}
	return opts
}

// withRulesFirst puts rules after rsync's first option (RSYNC -ltrp),
// before extra and the settings' own rules.
func withRulesFirst(argv, rules []string) []string {
	const head = 2
	out := make([]string, 0, len(argv)+len(rules))
	out = append(out, argv[:head]...)
	out = append(out, rules...)
	return append(out, argv[head:]...)
}

// unreadablePaths returns the paths of the tree at source that rsync's
// output names in errors of its sending side (the side that reads the
// source: "opendir … failed", "send_files failed to open …", "link_stat …
// failed"), each with the line that names it. ok is false when an error
// line is one it cannot place: one of the receiving side (the target's
// fault, which concerns the whole run), one that names no path or a path
// outside the tree or the tree's root itself, or a name that rsync
// escaped. Only the last tailMax bytes of output are seen, so a run with
// many such paths may name them over several runs.
func unreadablePaths(output, source string) (paths map[string]string, ok bool) {
	root, err := filepath.Abs(source)
	if err != nil {
		return nil, false
	}
	if root != "/" {
		root += "/"
	}
	paths = map[string]string{}
	for line := range strings.Lines(output) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "rsync: [") {
			continue // rsync's summaries and notes, or the cut start
		}
		if !strings.HasPrefix(line, "rsync: [sender] ") {
			return nil, false
		}
		first, last := strings.IndexByte(line, '"'), strings.LastIndexByte(line, '"')
		if first < 0 || last <= first {
			return nil, false
		}
		name := line[first+1 : last]
		rel, found := strings.CutPrefix(name, root)
		rel = filepath.Clean(rel) // rsync names the root "/src/." in a full run
		if !found || rel == "." || strings.HasPrefix(rel, "../") || strings.Contains(name, `\#`) {
			return nil, false
		}
		paths[rel] = line
	}
	return paths, len(paths) > 0
}

// setAside books a run that exited 23 naming paths it could not read: they
// are set aside, each on its own backoff, and the rest of the run's work
// goes back to pending for a run at once that leaves them out. It reports
// false (the run is then a failure as a whole) when rsync named nothing it
// could place, or only paths the run already left out: then leaving more
// out would not help.
func (d *dispatcher) setAside(j *jobState, r result, run running, now time.Time, draining bool) bool {
	if len(r.unreadable) == 0 {
		return false
	}
	news := false
	for rel := range r.unreadable {
		news = news || !coveredBy(rel, run.exclude)
	}
	if !news {
		return false
	}
	lg := d.jobLogger(j)
	if j.failures > 0 { // rsync reached the node: it is back
		d.reportRecovery(j, r, now)
		j.failures, j.rec.failingSince = 0, time.Time{}
	}
	for rel, line := range r.unreadable {
		u := j.unreadable[rel]
		if u == nil {
			u = &unreadablePath{since: now}
			j.unreadable[rel] = u
		}
		u.failures++
		u.err, u.dir, u.retrying = line, strings.Contains(line, "opendir "), false
		wait := d.backoff(u.failures)
		u.retryAt = now.Add(wait)
		if u.failures&(u.failures-1) == 0 { // the 1st, 2nd, 4th, 8th… time
			lg.Warn().Str("unreadable", rel).Int("failures", u.failures).Str("error", line).Int64("retry_in_ms", wait.Milliseconds()).
				Msg("rsync cannot read this path: it is left out of the tree's runs and tried again on its own; the tree's other changes go on")
		}
	}
	j.unreadable.dropCovered()
	j.rec.failed++
	d.merge(j, r.paths, r.full, r.initial, run.since)
	if !draining {
		d.armUnreadable(j)
	}
	return true
}

// backoff is the wait before the given consecutive failure is retried:
// Backoff.Min, doubling, at most Backoff.Max.
func (d *dispatcher) backoff(failures int) time.Duration {
	wait := d.o.Backoff.Min << min(failures-1, 16)
	if wait > d.o.Backoff.Max || wait <= 0 {
		wait = d.o.Backoff.Max
	}
	return wait
}

// dropCovered removes the paths that another set-aside path covers.
func (u unreadableSet) dropCovered() {
	for rel := range u {
		for other := range u {
			if other != rel && strings.HasPrefix(rel, other+"/") {
				delete(u, rel)
				break
			}
		}
	}
}

// retryUnreadable puts job j's set-aside paths that are due (all of them
// when all) back in its pending paths, to be tried again. A path that is
// no longer there is dropped: the change that removed it syncs that.
func (d *dispatcher) retryUnreadable(j *jobState, now time.Time, all bool) {
	for rel, u := range j.unreadable {
		if u.retrying || (!all && now.Before(u.retryAt)) {
			continue
		}
		if _, err := os.Lstat(filepath.Join(j.Path, rel)); errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			delete(j.unreadable, rel)
			lg := d.jobLogger(j)
			lg.Info().Str("unreadable", rel).Msg("the path rsync could not read is gone")
			continue
		}
		u.retrying = true
		form := rel
		if u.dir {
			form += "/"
		}
		d.merge(j, []string{form}, false, false, now)
	}
	if !all {
		d.armUnreadable(j)
	}
}

// readableAgain drops the set-aside paths that a successful run r tried
// again: they were read and synced. run is what r carried.
func (d *dispatcher) readableAgain(j *jobState, r result, run running) {
	for rel, u := range j.unreadable {
		if u.retrying && carried(rel, r.paths, run.whole) && !coveredBy(rel, run.exclude) {
			delete(j.unreadable, rel)
			lg := d.jobLogger(j)
			lg.Info().Str("unreadable", rel).Int("failures", u.failures).Msg("the path is readable again and synced")
		}
	}
}

// armUnreadable sets job j's timer for its first set-aside path that is
// due, if any.
func (d *dispatcher) armUnreadable(j *jobState) {
	var next time.Time
	for _, u := range j.unreadable {
		if !u.retrying && (next.IsZero() || u.retryAt.Before(next)) {
			next = u.retryAt
		}
	}
	if next.IsZero() {
		if j.unreadableTimer != nil {
			j.unreadableTimer.Stop()
		}
		return
	}
	wait := time.Until(next)
	if j.unreadableTimer != nil {
		j.unreadableTimer.Reset(wait)
		return
	}
	j.unreadableTimer = time.AfterFunc(wait, func() { report(d, d.unreadableDue, j) })
}

// names returns up to n of the set-aside paths, sorted, and "…" when there
// are more.
func (u unreadableSet) names(n int) []string {
	all := slices.Sorted(maps.Keys(u))
	if len(all) > n {
		return append(all[:n], "…")
	}
	return all
}

// status reports the set-aside paths, sorted.
func (u unreadableSet) status() []UnreadableStatus {
	var out []UnreadableStatus
	for _, rel := range slices.Sorted(maps.Keys(u)) {
		p := u[rel]
		s := UnreadableStatus{Path: rel, Since: p.since, Failures: p.failures, Error: p.err}
		if !p.retrying {
			s.NextRetry = p.retryAt
		}
		out = append(out, s)
	}
	return out
}
