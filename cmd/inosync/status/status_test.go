package status

import (
	"strings"
	"testing"
	"time"
)

// Summary is the one line that systemd's STATUS= and `inosync status`
// show: the worst state wins.
func TestSummary(t *testing.T) {
	since := time.Date(2026, 12, 4, 10, 2, 0, 0, time.Local)
	at := since.Add(5 * time.Minute)
	tree := func(nodes ...Node) Report { return Report{At: at, Trees: []Tree{{Nodes: nodes}, {}}} }
	for _, c := range []struct {
		r    Report
		want string
	}{
		{tree(Node{Node: "web1", State: InSync}, Node{Node: "web2", State: InSync}), "2 trees, 2 nodes: in sync"},
		{tree(Node{Node: "web1", State: Initial, FullSync: true}, Node{Node: "web2", State: Pending, Pending: 3}),
			"2 trees, 2 nodes: initial sync running, 3 paths and a full sync pending"},
		{tree(Node{Node: "web1", State: Running, Pending: 1}), "2 trees, 1 node: syncing, 1 path pending"},
		{tree(Node{Node: "web1", State: InSync}, Node{Node: "web2", State: Failing, FailingSince: &since, Pending: 41}),
			"2 trees, 2 nodes: node web2 failing since 10:02:00; 41 paths pending"},
		{Report{At: at, Trees: []Tree{
			{Source: "/srv/a/", Nodes: []Node{{Node: "(local)", State: Failing, FailingSince: &since, Pending: 1}}},
			{Source: "/srv/b/", Nodes: []Node{{Node: "(local)", State: Failing, FailingSince: &since, Pending: 1}}}}},
			"2 trees, 1 node: node (local) of /srv/a/ failing since 10:02:00; node (local) of /srv/b/ failing since 10:02:00; 2 paths pending"},
		{tree(Node{Node: "web1", State: InSync, Unreadable: []UnreadablePath{{Path: "secret"}}}),
			"2 trees, 1 node (1 path that rsync cannot read): in sync"},
		{Report{Stopping: true, Trees: []Tree{{Nodes: []Node{{Node: "a", State: InSync}}}}},
			"stopping, syncing what is pending: 1 tree, 1 node: in sync"},
	} {
		if got := c.r.Summary(); got != c.want {
			t.Errorf("Summary() = %q, want %q", got, c.want)
		}
	}
}

// A path that rsync cannot read makes the report failing, and the text
// names it with rsync's error, while the node itself is in sync.
func TestUnreadableReported(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 10, 0, 0, time.Local)
	since, next := at.Add(-5*time.Minute), at.Add(30*time.Second)
	r := Report{Started: at.Add(-time.Hour), At: at, Trees: []Tree{{Source: "/srv/www/", Target: "/mirror/", Nodes: []Node{{
		Node: "web1", State: InSync, LastSuccess: &since,
		Unreadable: []UnreadablePath{{Path: "secret", Since: since, Failures: 4, Error: `rsync: [sender] opendir "/srv/www/secret" failed: Permission denied (13)`, NextRetry: &next}},
	}}}}}
	if c := r.ExitCode(); c != ExitFailing {
		t.Errorf("ExitCode() = %d, want %d", c, ExitFailing)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `    CANNOT READ secret; since 10:05:00 (5m0s ago), 4 failures; rsync: [sender] opendir "/srv/www/secret" failed: Permission denied (13); next try in 30s`
	if !strings.Contains(b.String(), want+"\n") {
		t.Errorf("text:\n%s\nwant a line\n%s", b.String(), want)
	}
}

// A node whose last after command failed makes the report failing; the
// text says when and why, under the node, which is itself in sync.
func TestAfterFailureReported(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 10, 0, 0, time.Local)
	end := at.Add(-2 * time.Minute)
	node := Node{Node: "web1", State: InSync, LastSuccess: &end,
		After: &After{Argv: []string{"/usr/local/sbin/purge"}, Runs: 3, Failed: 1, LastEnd: &end, LastError: "exited with 3: cache busy"}}
	r := Report{Started: at.Add(-time.Hour), At: at, Trees: []Tree{{Source: "/srv/www/", Target: "/mirror/", Nodes: []Node{node}}}}
	if c := r.ExitCode(); c != ExitFailing {
		t.Errorf("ExitCode() = %d, want %d", c, ExitFailing)
	}
	if s, want := r.Summary(), "1 tree, 1 node (1 node whose last after command failed): in sync"; s != want {
		t.Errorf("Summary() = %q, want %q", s, want)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "    after: 3 runs, 1 failed; LAST FAILED at 10:08:00 (2m0s ago): exited with 3: cache busy\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("text:\n%s\nwant a line\n%s", b.String(), want)
	}
	r.Trees[0].Nodes[0].After.LastError = ""
	if c := r.ExitCode(); c != ExitOK {
		t.Errorf("after a success: ExitCode() = %d, want %d", c, ExitOK)
	}
}

// An after command's earlier failure stays in the text after a success;
// a failure is named while the next command runs.
func TestAfterEarlierFailureShown(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 10, 0, 0, time.Local)
	fail, ok := at.Add(-5*time.Minute), at.Add(-time.Minute)
	r := Report{At: at}
	got := r.afterLine(&After{Runs: 4, Failed: 1, LastEnd: &ok, LastFailure: &fail, LastFailureError: "exited with 3: varnish 503"})
	if want := "4 runs, 1 failed (last at 10:05:00, 5m0s ago: exited with 3: varnish 503); last ran at 10:09:00 (1m0s ago)"; got != want {
		t.Errorf("afterLine = %q, want %q", got, want)
	}
	got = r.afterLine(&After{Runs: 1, Failed: 1, Running: true, LastEnd: &fail, LastError: "exited with 3", LastFailure: &fail, LastFailureError: "exited with 3"})
	if want := "1 run, 1 failed; running; the last one FAILED at 10:05:00 (5m0s ago): exited with 3"; got != want {
		t.Errorf("afterLine = %q, want %q", got, want)
	}
}

// A failing node's line shows rsync's exit with its error; a run that had
// no exit of rsync's (refused by the source guard, not started, killed)
// shows the error alone.
func TestFailingNodeLine(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 10, 0, 0, time.Local)
	since := at.Add(-time.Minute)
	for _, c := range []struct {
		exit int
		want string
	}{
		{23, "FAILING since 10:09:00 (1m0s ago), 1 failure; exit 23: rsync: mkstemp failed"},
		{-2, "FAILING since 10:09:00 (1m0s ago), 1 failure; the source is empty"},
	} {
		msg := map[int]string{23: "rsync: mkstemp failed", -2: "the source is empty"}[c.exit]
		r := Report{At: at}
		if got := r.nodeLine(Node{Node: "web1", State: Failing, FailingSince: &since, Failures: 1, LastExit: c.exit, LastError: msg}); !strings.HasPrefix(got, c.want) {
			t.Errorf("exit %d: %q, want it to begin %q", c.exit, got, c.want)
		}
	}
}

// A moment is read against the report's time, not the reader's clock: the
// time of day within a day of it, the date too beyond that.
func TestClockAgainstReport(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 10, 0, 0, time.Local)
	r := Report{At: at}
	recent, old := at.Add(-23*time.Hour), at.Add(-25*time.Hour)
	if got, want := r.clock(&recent), "11:10:00"; got != want {
		t.Errorf("clock(23h before) = %q, want %q", got, want)
	}
	if got, want := r.clock(&old), "2026-12-03 09:10:00"; got != want {
		t.Errorf("clock(25h before) = %q, want %q", got, want)
	}
	if got, want := (&Report{}).clock(&recent), "2026-12-03 11:10:00"; got != want {
		t.Errorf("clock without a report time = %q, want %q", got, want)
	}
}
