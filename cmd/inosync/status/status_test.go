package status

import (
	"testing"
	"time"
)

// Summary is the one line that systemd's STATUS= and `inosync status`
// show: the worst state wins.
func TestSummary(t *testing.T) {
	since := time.Date(2026, 12, 4, 10, 2, 0, 0, time.Local)
	tree := func(nodes ...Node) Report { return Report{Trees: []Tree{{Nodes: nodes}, {}}} }
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
		{Report{Stopping: true, Trees: []Tree{{Nodes: []Node{{Node: "a", State: InSync}}}}},
			"stopping, syncing what is pending: 1 tree, 1 node: in sync"},
	} {
		if got := c.r.Summary(); got != c.want {
			t.Errorf("Summary() = %q, want %q", got, c.want)
		}
	}
}
