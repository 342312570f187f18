// Package status is the report `inosync status` prints and the status file
// holds: per tree and node, whether it is in sync, and if not, why and
// since when. The daemon fills it in; this package renders it as text or
// JSON and says what exit status it means.
package status

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is the daemon's state at one moment.
type Report struct {
	Config  string    `json:"config"`
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	At      time.Time `json:"at"`
	Trees   []Tree    `json:"trees"`
	// Stopping: SIGTERM or SIGINT came; what is pending is being synced
	// before the daemon exits.
	Stopping bool `json:"stopping,omitempty"`
	// Stopped: the daemon has exited (the status file's last report);
	// Result says whether everything seen was synced.
	Stopped bool   `json:"stopped,omitempty"`
	Result  string `json:"result,omitempty"`
	// ReloadRefused: the last reload did not load the config file, so
	// the daemon runs on the config it loaded before; nil once a reload
	// took.
	ReloadRefused *Refusal `json:"reload_refused,omitempty"`
}

// Refusal is a reload that was refused: when, and why.
type Refusal struct {
	At    time.Time `json:"at"`
	Error string    `json:"error"`
}

// Tree is one watched tree.
type Tree struct {
	Source  string `json:"source"`
	Target  string `json:"target"`
	State   string `json:"state"` // TreeStarting, TreeWatching or TreeLost
	Watches int    `json:"watches"`
	// Events and Overflows count what the tree's watcher reported since
	// it started (an overflow is answered by a full sync).
	Events    uint64 `json:"events"`
	Overflows uint64 `json:"overflows"`
	Nodes     []Node `json:"nodes"`
}

// The states of a tree.
const (
	TreeStarting = "starting" // its watches are being added
	TreeWatching = "watching"
	// TreeLost: its source is unmounted, gone or another directory now;
	// nothing is synced from it until it is back.
	TreeLost = "lost"
)

// The states of a node, as the dispatcher names them (rsync.JobState),
// plus Pending for changes that still wait out the tree's delay.
const (
	Failing = "failing"
	Initial = "initial sync"
	Running = "running"
	Pending = "pending"
	InSync  = "in sync"
)

// Node is one tree's sync to one node.
type Node struct {
	Node  string `json:"node"` // as written in the config; "(local)" for a local target
	Dest  string `json:"dest"`
	State string `json:"state"`
	// Pending counts the paths not yet synced: waiting out the delay, for
	// a process slot, or in a run. FullSync: the whole tree is to be
	// synced (or is being).
	Pending  int        `json:"pending_paths"`
	FullSync bool       `json:"full_sync"`
	Running  int        `json:"running"`
	Oldest   *time.Time `json:"oldest_pending,omitempty"`
	// OldestAge is At minus Oldest, in seconds; 0 when nothing is pending.
	OldestAge    float64    `json:"oldest_pending_age_seconds"`
	LastSuccess  *time.Time `json:"last_success,omitempty"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	Failures     int        `json:"consecutive_failures"`
	LastExit     int        `json:"last_exit,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	NextRetry    *time.Time `json:"next_retry,omitempty"`
	Runs         int        `json:"runs"`
	Failed       int        `json:"failed_runs"`
	// Unreadable are paths that rsync could not read (exit 23 naming
	// them): the node's runs leave them out and try each again on its
	// own, so the node is otherwise in sync; they make the report failing.
	Unreadable []UnreadablePath `json:"unreadable_paths,omitempty"`
	// After is the node's after command (sync(after=…)); nil without
	// one. Its last run failing makes the report failing.
	After *After `json:"after,omitempty"`
	// Durations counts the runs by duration (see rsync.DurationBuckets);
	// for the metrics only.
	Durations   []uint64 `json:"-"`
	DurationSum float64  `json:"-"`
}

// UnreadablePath is a path of the tree that rsync could not read.
type UnreadablePath struct {
	Path      string     `json:"path"`
	Since     time.Time  `json:"since"`
	Failures  int        `json:"failures"`
	Error     string     `json:"error"`
	NextRetry *time.Time `json:"next_retry,omitempty"`
}

// After is what a node's after command has done since the start.
type After struct {
	Argv      []string   `json:"argv"`
	Runs      int        `json:"runs"`
	Failed    int        `json:"failed"`
	Running   bool       `json:"running"`
	LastEnd   *time.Time `json:"last_end,omitempty"`
	LastError string     `json:"last_error,omitempty"` // "" when the last one succeeded
	// LastFailure and LastFailureError are the last failure's, kept after
	// later successes (its paths were synced without the command).
	LastFailure      *time.Time `json:"last_failure,omitempty"`
	LastFailureError string     `json:"last_failure_error,omitempty"`
	// Waiting counts the synced paths gathered for the next command;
	// WaitingFull: it is for the whole tree.
	Waiting     int  `json:"waiting_paths"`
	WaitingFull bool `json:"waiting_full,omitempty"`
}

// Exit statuses of `inosync status`.
const (
	ExitOK       = 0 // every node in sync or merely pending
	ExitFailing  = 1 // a node is failing, or a path cannot be read
	ExitNoDaemon = 3 // no daemon answered
)

// ExitCode is the exit status a report means: ExitFailing when a node is
// failing, has paths it cannot read or its after command last failed,
// else ExitOK.
func (r *Report) ExitCode() int {
	for _, t := range r.Trees {
		for _, n := range t.Nodes {
			if n.State == Failing || len(n.Unreadable) > 0 || n.After != nil && n.After.LastError != "" {
				return ExitFailing
			}
		}
	}
	return ExitOK
}

// Summary is one line: how many trees and nodes, and the worst of them.
func (r *Report) Summary() string {
	if r.Stopped {
		return fmt.Sprintf("stopped at %s: %s", r.At.Format(time.DateTime), r.Result)
	}
	if r.Stopping {
		return "stopping, syncing what is pending: " + r.summary()
	}
	return r.summary()
}

// summary is Summary of a running daemon.
func (r *Report) summary() string {
	nodes := map[string]bool{}
	var failing, pending []string
	paths, full, initial, unreadable, afterFailed := 0, false, false, 0, 0
	for _, t := range r.Trees {
		for _, n := range t.Nodes {
			nodes[n.Node] = true
			unreadable += len(n.Unreadable)
			if n.After != nil && n.After.LastError != "" {
				afterFailed++
			}
			switch n.State {
			case Failing:
				which := "node " + n.Node
				if len(r.Trees) > 1 && t.Source != "" {
					which += " of " + t.Source // which tree's node
				}
				failing = append(failing, fmt.Sprintf("%s failing since %s", which, r.clock(n.FailingSince)))
			case InSync:
				continue
			case Initial:
				initial = true
				pending = append(pending, n.Node)
			default:
				pending = append(pending, n.Node)
			}
			paths += n.Pending
			full = full || n.FullSync
		}
	}
	head := fmt.Sprintf("%s, %s", count(len(r.Trees), "tree"), count(len(nodes), "node"))
	if unreadable > 0 {
		head += fmt.Sprintf(" (%s that rsync cannot read)", count(unreadable, "path"))
	}
	if afterFailed > 0 {
		head += fmt.Sprintf(" (%s whose last after command failed)", count(afterFailed, "node"))
	}
	if r.ReloadRefused != nil {
		head += " (the config file was refused at the last reload)"
	}
	what := count(paths, "path")
	if full {
		what += " and a full sync"
	}
	switch {
	case len(failing) > 0:
		return fmt.Sprintf("%s: %s; %s pending", head, strings.Join(failing, "; "), what)
	case initial:
		return fmt.Sprintf("%s: initial sync running, %s pending", head, what)
	case len(pending) > 0:
		return fmt.Sprintf("%s: syncing, %s pending", head, what)
	}
	return head + ": in sync"
}

// WriteText writes the report for a person to read.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "inosync %s, pid %d, config %s, up %s\n", r.Version, r.PID, r.Config, age(r.At.Sub(r.Started)))
	fmt.Fprintln(&b, r.Summary())
	if f := r.ReloadRefused; f != nil {
		fmt.Fprintf(&b, "RELOAD REFUSED at %s, so the config running is the one loaded before: %s\n", r.clock(&f.At), f.Error)
	}
	for _, t := range r.Trees {
		fmt.Fprintf(&b, "\n%s -> %s  (%s, %s)\n", t.Source, t.Target, t.State, count(t.Watches, "watch"))
		for _, n := range t.Nodes {
			fmt.Fprintf(&b, "  %s  %s\n", n.Node, r.nodeLine(n))
			for _, u := range n.Unreadable {
				fmt.Fprintf(&b, "    CANNOT READ %s\n", r.unreadableLine(u))
			}
			if n.After != nil {
				fmt.Fprintf(&b, "    after: %s\n", r.afterLine(n.After))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// nodeLine is one node's state in words.
func (r *Report) nodeLine(n Node) string {
	var parts []string
	switch n.State {
	case Failing:
		parts = append(parts, fmt.Sprintf("FAILING since %s (%s ago), %s", r.clock(n.FailingSince), age(r.At.Sub(*n.FailingSince)), count(n.Failures, "failure")))
		switch {
		case n.LastError == "":
		case n.LastExit < 0: // no rsync exit: refused, not started, or killed
			parts = append(parts, n.LastError)
		default:
			parts = append(parts, fmt.Sprintf("exit %d: %s", n.LastExit, n.LastError))
		}
		if n.NextRetry != nil {
			parts = append(parts, "next try in "+age(n.NextRetry.Sub(r.At)))
		}
	default:
		parts = append(parts, n.State)
	}
	if n.FullSync {
		parts = append(parts, "a full sync pending")
	} else if n.Pending > 0 {
		parts = append(parts, count(n.Pending, "path")+" pending")
	}
	if n.Oldest != nil {
		parts = append(parts, "oldest "+age(r.At.Sub(*n.Oldest)))
	}
	if n.LastSuccess != nil {
		parts = append(parts, fmt.Sprintf("last success %s (%s ago)", r.clock(n.LastSuccess), age(r.At.Sub(*n.LastSuccess))))
	} else {
		parts = append(parts, "no success yet")
	}
	parts = append(parts, fmt.Sprintf("%s, %d failed", count(n.Runs, "run"), n.Failed))
	return strings.Join(parts, "; ")
}

// afterLine is a node's after command in words.
func (r *Report) afterLine(a *After) string {
	parts := []string{fmt.Sprintf("%s, %d failed", count(a.Runs, "run"), a.Failed)}
	if a.LastFailure != nil && a.LastError == "" { // an earlier failure, not shown below
		parts[0] += fmt.Sprintf(" (last at %s, %s ago: %s)", r.clock(a.LastFailure), age(r.At.Sub(*a.LastFailure)), a.LastFailureError)
	}
	switch {
	case a.Running && a.LastError != "":
		parts = append(parts, fmt.Sprintf("running; the last one FAILED at %s (%s ago): %s", r.clock(a.LastEnd), age(r.At.Sub(*a.LastEnd)), a.LastError))
	case a.Running:
		parts = append(parts, "running")
	case a.LastEnd == nil:
		parts = append(parts, "not run yet")
	case a.LastError != "":
		parts = append(parts, fmt.Sprintf("LAST FAILED at %s (%s ago): %s", r.clock(a.LastEnd), age(r.At.Sub(*a.LastEnd)), a.LastError))
	default:
		parts = append(parts, fmt.Sprintf("last ran at %s (%s ago)", r.clock(a.LastEnd), age(r.At.Sub(*a.LastEnd))))
	}
	switch {
	case a.WaitingFull:
		parts = append(parts, "the whole tree waiting for the next")
	case a.Waiting > 0:
		parts = append(parts, count(a.Waiting, "path")+" waiting for the next")
	}
	return strings.Join(parts, "; ")
}

// unreadableLine is one unreadable path in words.
func (r *Report) unreadableLine(u UnreadablePath) string {
	parts := []string{u.Path, fmt.Sprintf("since %s (%s ago), %s", r.clock(&u.Since), age(r.At.Sub(u.Since)), count(u.Failures, "failure")), u.Error}
	if u.NextRetry != nil {
		parts = append(parts, "next try in "+age(u.NextRetry.Sub(r.At)))
	}
	return strings.Join(parts, "; ")
}

// clock is a moment for reading: the time of day when it is within a day
// of the report, the date too when it is older or the report has no time.
func (r *Report) clock(t *time.Time) string {
	if t == nil {
		return "-"
	}
	if r.At.IsZero() || r.At.Sub(*t) > 24*time.Hour {
		return t.Format(time.DateTime)
	}
	return t.Format(time.TimeOnly)
}

// age is a duration rounded for reading: 850ms, 12s, 4m2s, 3h10m.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func count(n int, what string) string {
	switch {
	case n == 1:
		return "1 " + what
	case what == "watch":
		return fmt.Sprintf("%d watches", n)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
