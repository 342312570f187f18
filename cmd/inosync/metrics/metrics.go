// Package metrics serves the daemon's state as Prometheus metrics on
// /metrics (metrics_listen), with client_golang. A scrape asks the daemon
// for its status once; nothing is counted on the event path.
package metrics

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inosync/inosync/cmd/inosync/status"
)

// Source gives the daemon's status for a scrape; false when the daemon
// did not answer in time.
type Source func(ctx context.Context) (status.Report, bool)

// scrapeTimeout bounds how long a scrape waits for the daemon's status.
const scrapeTimeout = 5 * time.Second

// Serve listens on addr and serves /metrics until ctx ends. It returns
// once it listens (or cannot), serving in a goroutine.
func Serve(ctx context.Context, addr string, src Source, buckets []float64) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		&collector{src: src, buckets: buckets},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Timeout: 2 * scrapeTimeout}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() { _ = srv.Serve(ln) }() // ends when ctx does

	return ln.Addr(), nil
}

var (
	nodeLabels = []string{"source", "node", "dest"}
	treeLabels = []string{"source", "target"} // two trees may share a source

	buildInfo    = prometheus.NewDesc("inosync_build_info", "inosync's version and the Go version it was built with; always 1.", []string{"version", "goversion"}, nil)
	started      = prometheus.NewDesc("inosync_start_time_seconds", "When the daemon started, in seconds since the Unix epoch.", nil, nil)
	pending      = prometheus.NewDesc("inosync_pending_paths", "Paths changed but not yet synced to the node.", nodeLabels, nil)
	fullSync     = prometheus.NewDesc("inosync_full_sync_pending", "1 while a full sync of the tree to the node is pending or running.", nodeLabels, nil)
	oldest       = prometheus.NewDesc("inosync_oldest_pending_age_seconds", "Age of the oldest change not yet synced to the node; 0 when none.", nodeLabels, nil)
	lastOK       = prometheus.NewDesc("inosync_last_success_timestamp_seconds", "When the last successful rsync run to the node ended, in seconds since the Unix epoch.", nodeLabels, nil)
	failing      = prometheus.NewDesc("inosync_node_failing", "1 while the node's last rsync run failed.", nodeLabels, nil)
	failures     = prometheus.NewDesc("inosync_consecutive_failures", "Failed rsync runs to the node since its last success.", nodeLabels, nil)
	afterFailing = prometheus.NewDesc("inosync_after_failing", "1 while the node's last after command failed (inosync status exits 1 then).", nodeLabels, nil)
	afterRuns    = prometheus.NewDesc("inosync_after_runs_total", "Runs of the node's after command since the start, by result (success or failure).", append(nodeLabels, "result"), nil)
	unreadable   = prometheus.NewDesc("inosync_unreadable_paths", "Paths of the tree that rsync could not read: left out of the node's runs and retried on their own.", nodeLabels, nil)
	runs         = prometheus.NewDesc("inosync_rsync_runs_total", "rsync runs to the node, by result.", append(nodeLabels, "result"), nil)
	duration     = prometheus.NewDesc("inosync_rsync_duration_seconds", "How long rsync runs to the node took.", nodeLabels, nil)
	watches      = prometheus.NewDesc("inosync_watches", "Directories watched in the tree.", treeLabels, nil)
	events       = prometheus.NewDesc("inosync_events_total", "File system events read for the tree.", treeLabels, nil)
	overflows    = prometheus.NewDesc("inosync_overflows_total", "Times the kernel's event queue overflowed for the tree (each answered by a full sync).", treeLabels, nil)
	scrapeOK     = prometheus.NewDesc("inosync_status_up", "1 when the daemon answered the scrape's status request in time.", nil, nil)
)

// collector turns one status report into metrics per scrape.
type collector struct {
	src     Source
	buckets []float64 // upper bounds of status.Node.Durations
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{buildInfo, started, pending, fullSync, oldest, lastOK, failing, failures, unreadable, afterRuns, afterFailing, runs, duration, watches, events, overflows, scrapeOK} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	r, ok := c.src(ctx)
	if !ok {
		ch <- prometheus.MustNewConstMetric(scrapeOK, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(scrapeOK, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(buildInfo, prometheus.GaugeValue, 1, r.Version, runtime.Version())
	ch <- prometheus.MustNewConstMetric(started, prometheus.GaugeValue, unix(r.Started))
	for _, t := range r.Trees {
		ch <- prometheus.MustNewConstMetric(watches, prometheus.GaugeValue, float64(t.Watches), t.Source, t.Target)
		ch <- prometheus.MustNewConstMetric(events, prometheus.CounterValue, float64(t.Events), t.Source, t.Target)
		ch <- prometheus.MustNewConstMetric(overflows, prometheus.CounterValue, float64(t.Overflows), t.Source, t.Target)
		for _, n := range t.Nodes {
			c.collectNode(ch, t.Source, n)
		}
	}
}

func (c *collector) collectNode(ch chan<- prometheus.Metric, source string, n status.Node) {
	l := []string{source, n.Node, n.Dest}
	ch <- prometheus.MustNewConstMetric(pending, prometheus.GaugeValue, float64(n.Pending), l...)
	ch <- prometheus.MustNewConstMetric(fullSync, prometheus.GaugeValue, boolean(n.FullSync), l...)
	ch <- prometheus.MustNewConstMetric(oldest, prometheus.GaugeValue, n.OldestAge, l...)
	if n.LastSuccess != nil {
		ch <- prometheus.MustNewConstMetric(lastOK, prometheus.GaugeValue, unix(*n.LastSuccess), l...)
	}
	ch <- prometheus.MustNewConstMetric(failing, prometheus.GaugeValue, boolean(n.State == status.Failing), l...)
	ch <- prometheus.MustNewConstMetric(failures, prometheus.GaugeValue, float64(n.Failures), l...)
	ch <- prometheus.MustNewConstMetric(unreadable, prometheus.GaugeValue, float64(len(n.Unreadable)), l...)
	if a := n.After; a != nil {
		ch <- prometheus.MustNewConstMetric(afterRuns, prometheus.CounterValue, float64(a.Runs-a.Failed), source, n.Node, n.Dest, "success")
		ch <- prometheus.MustNewConstMetric(afterRuns, prometheus.CounterValue, float64(a.Failed), source, n.Node, n.Dest, "failure")
		ch <- prometheus.MustNewConstMetric(afterFailing, prometheus.GaugeValue, boolean(a.LastError != ""), l...)
	}
	ch <- prometheus.MustNewConstMetric(runs, prometheus.CounterValue, float64(n.Runs-n.Failed), source, n.Node, n.Dest, "success")
	ch <- prometheus.MustNewConstMetric(runs, prometheus.CounterValue, float64(n.Failed), source, n.Node, n.Dest, "failure")
	if len(n.Durations) == len(c.buckets)+1 {
		cum := map[float64]uint64{}
		var total uint64
		for i, b := range c.buckets {
			total += n.Durations[i]
			cum[b] = total
		}
		total += n.Durations[len(c.buckets)]
		ch <- prometheus.MustNewConstHistogram(duration, total, n.DurationSum, cum, l...)
	}
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolean(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
