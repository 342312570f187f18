package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/internal/testutil"
)

// observed is a daemon run in-process (serve) with its control socket in
// a temp directory, and its SIGHUP and SIGUSR1 as channels of the test.
type observed struct {
	*daemonRun
	cfg, sock string
	hup, usr1 chan os.Signal
}

// startObserved writes cfgText (with @BASE@ replaced, and the control
// socket set) to BASE/cfg.py and runs serve on it.
func startObserved(t *testing.T, base, cfgText string) *observed {
	t.Helper()
	o := &observed{cfg: filepath.Join(base, "cfg.py"), sock: filepath.Join(base, "ctl.sock"),
		hup: make(chan os.Signal, 1), usr1: make(chan os.Signal, 1)}
	writeCfg(t, o.cfg, base, cfgText)
	o.daemonRun = runServe(t, o.cfg, serveOptions{pace: intakePace, sig: signals{reload: o.hup, resync: o.usr1}})
	testutil.Eventually(t, 10*time.Second, "the control socket", func() bool {
		_, err := os.Stat(o.sock)
		return err == nil
	})
	return o
}

// writeCfg writes a config with @BASE@ replaced and the control socket in
// base.
func writeCfg(t *testing.T, path, base, text string) {
	t.Helper()
	text = strings.ReplaceAll(text, "@BASE@", base) + "control_socket = \"" + filepath.Join(base, "ctl.sock") + "\"\n"
	must(t, os.WriteFile(path, []byte(text), 0o644))
}

// client runs `inosync ARGS -c CFG` in-process and returns its exit
// status, stdout and stderr.
func (o *observed) client(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append(args, "-c", o.cfg), &out, &errb)
	return code, out.String(), errb.String()
}

// report is `inosync status --json`, parsed.
func (o *observed) report(t *testing.T) (status.Report, int) {
	t.Helper()
	code, out, errs := o.client("status", "--json")
	var r status.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("status --json (exit %d): %v\n%s%s", code, err, out, errs)
	}
	return r, code
}

// node returns the status of the node of the tree with the given source.
func node(t *testing.T, r status.Report, source string) status.Node {
	t.Helper()
	for _, tr := range r.Trees {
		if filepath.Clean(tr.Source) == filepath.Clean(source) && len(tr.Nodes) == 1 {
			return tr.Nodes[0]
		}
	}
	t.Fatalf("no tree %s with one node in %+v", source, r.Trees)
	return status.Node{}
}

func hasTree(r status.Report, source string) bool {
	for _, tr := range r.Trees {
		if filepath.Clean(tr.Source) == filepath.Clean(source) {
			return true
		}
	}
	return false
}

const twoTrees = `sync("@BASE@/a/", "@BASE@/a-dst/", nodes = [""], delay = 0)
sync("@BASE@/b/", "@BASE@/b-dst/", nodes = [""], delay = 0)
`

// Reload adds, removes and changes trees; a bad config is refused with its
// position and the running one keeps syncing; resync repairs a target.
func TestReloadAndResyncThroughTheSocket(t *testing.T) { reloadAndResync(t, "") }

func TestReloadAndResyncFanotify(t *testing.T) {
	needFanotify(t)
	reloadAndResync(t, fanotifyCfg)
}

// reloadAndResync: extra is added to each config.
func reloadAndResync(t *testing.T, extra string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	for _, d := range []string{"a", "b", "c"} {
		writeFile(t, filepath.Join(base, d, "f"), d)
	}
	o := startObserved(t, base, twoTrees+extra)
	testutil.Eventually(t, 20*time.Second, "both trees in sync", func() bool {
		r, code := o.report(t)
		return code == 0 && node(t, r, base+"/a").State == status.InSync && node(t, r, base+"/b").State == status.InSync
	})
	if code, out, _ := o.client("status"); code != 0 || !strings.Contains(out, "2 trees, 1 node: in sync") {
		t.Errorf("status exit %d:\n%s", code, out)
	}

	// resync SOURCE repairs what was changed on the target.
	writeFile(t, filepath.Join(base, "a-dst/f"), "changed on the target")
	if code, out, errs := o.client("resync", base+"/a"); code != 0 {
		t.Fatalf("resync exit %d: %s%s", code, out, errs)
	}
	converges(t, filepath.Join(base, "a"), filepath.Join(base, "a-dst"), "a repaired by resync")

	// A bad config: refused, located; the old one keeps syncing.
	writeCfg(t, o.cfg, base, twoTrees+"edelay = 'soon'\n"+extra)
	code, _, errs := o.client("reload")
	if code != 1 || !regexp.MustCompile(`cfg\.py:3:\d+: edelay`).MatchString(errs) {
		t.Errorf("reload of a bad config: exit %d, stderr %q; want 1 and the located error", code, errs)
	}
	writeFile(t, filepath.Join(base, "a/g"), "after the bad reload")
	converges(t, filepath.Join(base, "a"), filepath.Join(base, "a-dst"), "a, synced with the old config")

	// a gets an exclude (and one full sync), b goes, c comes.
	writeCfg(t, o.cfg, base, `sync("@BASE@/a/", "@BASE@/a-dst/", nodes = [""], delay = 0, excludes = ["*.tmp"])
sync("@BASE@/c/", "@BASE@/c-dst/", nodes = [""], delay = 0)
`+extra)
	code, out, errs := o.client("reload")
	if code != 0 || !strings.Contains(out, "1 added, 1 removed, 1 rewatched") {
		t.Fatalf("reload exit %d: %s%s", code, out, errs)
	}
	converges(t, filepath.Join(base, "c"), filepath.Join(base, "c-dst"), "the added tree's initial sync")
	writeFile(t, filepath.Join(base, "a/h.tmp"), "excluded now")
	writeFile(t, filepath.Join(base, "a/h"), "synced")
	writeFile(t, filepath.Join(base, "b/late"), "not synced: b was removed")
	testutil.Eventually(t, 20*time.Second, "a/h synced", func() bool {
		_, err := os.Stat(filepath.Join(base, "a-dst/h"))
		return err == nil
	})
	r, _ := o.report(t)
	if hasTree(r, base+"/b") || !hasTree(r, base+"/c") {
		t.Errorf("trees after the reload: %+v", r.Trees)
	}
	must(t, o.stop(t))
	for _, p := range []string{"a-dst/h.tmp", "b-dst/late"} {
		if _, err := os.Stat(filepath.Join(base, p)); err == nil {
			t.Errorf("%s was synced", p)
		}
	}
}

// A node that fails shows as failing, with a growing age and rsync's own
// words, and status exits 1; once it works again it is in sync, exit 0.
func TestStatusFailingNodeThenInSync(t *testing.T) { statusFailingNodeThenInSync(t, "") }

func TestStatusFailingNodeThenInSyncFanotify(t *testing.T) {
	needFanotify(t)
	statusFailingNodeThenInSync(t, fanotifyCfg)
}

// statusFailingNodeThenInSync follows a failing node's status to its
// recovery, with cfgExtra added to the config.
func statusFailingNodeThenInSync(t *testing.T, cfgExtra string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	// The target's parent is missing: rsync creates only the last level.
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/missing/dst/", nodes = [""], delay = 0)
`+cfgExtra)
	var first status.Node
	testutil.Eventually(t, 20*time.Second, "the node failing", func() bool {
		r, code := o.report(t)
		first = node(t, r, base+"/src")
		return code == 1 && first.State == status.Failing
	})
	if first.FailingSince == nil || first.Oldest == nil || first.LastError == "" || !first.FullSync {
		t.Errorf("failing node: %+v", first)
	}
	testutil.Eventually(t, 20*time.Second, "a growing age", func() bool {
		r, _ := o.report(t)
		return node(t, r, base+"/src").OldestAge > first.OldestAge+0.5
	})
	code, out, _ := o.client("status")
	if code != 1 || !strings.Contains(out, "FAILING since") {
		t.Errorf("status exit %d:\n%s", code, out)
	}
	must(t, os.MkdirAll(filepath.Join(base, "missing"), 0o755))
	testutil.Eventually(t, 30*time.Second, "the node in sync", func() bool {
		r, code := o.report(t)
		n := node(t, r, base+"/src")
		return code == 0 && n.State == status.InSync && n.LastSuccess != nil && n.Failures == 0
	})
	if !strings.Contains(o.logs.String(), "node (local) recovered after") {
		t.Error("the recovery was not logged")
	}
}

// The metrics endpoint serves what the status says, in Prometheus's text
// format; the status file is written.
func TestMetricsAndStatusFile(t *testing.T) { metricsAndStatusFile(t, "") }

// Two trees may share a source (mirrored to different targets): each
// has its own tree metrics, told apart by target, and the scrape works;
// resync SOURCE syncs both.
func TestTwoTreesOneSource(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/a/", nodes = [""], delay = 0)
sync("@BASE@/src/", "@BASE@/b/", nodes = [""], delay = 0)
metrics_listen = "127.0.0.1:0"
`)
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "a"), "the first tree's initial sync")
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "b"), "the second tree's initial sync")
	addr := regexp.MustCompile(`"metrics":"(http://[^"]+)"`).FindStringSubmatch(o.logs.String())
	if addr == nil {
		t.Fatalf("no metrics address logged")
	}
	fams := scrape(t, addr[1])
	for _, name := range []string{"inosync_watches", "inosync_events_total", "inosync_overflows_total"} {
		var targets []string
		for _, m := range fams[name].GetMetric() {
			targets = append(targets, label(m, "target"))
		}
		if got, want := strings.Join(targets, " "), base+"/a/ "+base+"/b/"; got != want {
			t.Errorf("%s: targets %q, want %q", name, got, want)
		}
	}

	writeFile(t, filepath.Join(base, "a/f"), "changed on the first target")
	writeFile(t, filepath.Join(base, "b/f"), "changed on the second target")
	if code, out, errs := o.client("resync", base+"/src"); code != 0 || !strings.Contains(out, "2 (tree, node) pairs") {
		t.Fatalf("resync exit %d: %s%s", code, out, errs)
	}
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "a"), "the first target repaired by resync")
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "b"), "the second target repaired by resync")
}

func TestMetricsAndStatusFileFanotify(t *testing.T) {
	needFanotify(t)
	metricsAndStatusFile(t, fanotifyCfg)
}

// metricsAndStatusFile scrapes the metrics and reads the status file, with
// cfgExtra added to the config.
func metricsAndStatusFile(t *testing.T, cfgExtra string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0)
metrics_listen = "127.0.0.1:0"
status_file = "@BASE@/status.txt"
status_interval = 1
`+cfgExtra)
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the initial sync")
	addr := regexp.MustCompile(`"metrics":"(http://[^"]+)"`).FindStringSubmatch(o.logs.String())
	if addr == nil {
		t.Fatalf("no metrics address logged")
	}
	var fams map[string]*dtoFamily
	testutil.Eventually(t, 10*time.Second, "a scrape after the first run", func() bool {
		fams = scrape(t, addr[1])
		f := fams["inosync_rsync_runs_total"]
		return f != nil && len(f.GetMetric()) == 2 && f.GetMetric()[1].GetCounter().GetValue() >= 1
	})
	for _, name := range []string{"inosync_pending_paths", "inosync_oldest_pending_age_seconds", "inosync_last_success_timestamp_seconds",
		"inosync_rsync_duration_seconds", "inosync_watches", "inosync_events_total", "inosync_overflows_total", "inosync_build_info", "inosync_node_failing"} {
		if fams[name] == nil {
			t.Errorf("metric %s missing", name)
		}
	}
	if h := fams["inosync_rsync_duration_seconds"]; h != nil && h.GetMetric()[0].GetHistogram().GetSampleCount() < 1 {
		t.Errorf("the duration histogram counts no run")
	}
	for _, m := range fams["inosync_rsync_runs_total"].GetMetric() {
		if label(m, "node") != "(local)" || label(m, "source") != base+"/src/" {
			t.Errorf("runs_total labels %v", m.GetLabel())
		}
	}
	testutil.Eventually(t, 10*time.Second, "the status file", func() bool {
		b, err := os.ReadFile(filepath.Join(base, "status.txt"))
		return err == nil && strings.Contains(string(b), "1 tree, 1 node: in sync")
	})
}

// resync_interval repairs drift on a target with no change in the source.
func TestResyncInterval(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0, resync_interval = 1)
`)
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the initial sync")
	writeFile(t, filepath.Join(base, "dst/f"), "drifted on the target")
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "drift repaired by resync_interval")
	if !strings.Contains(o.logs.String(), "scheduled full sync (resync_interval)") {
		t.Error("no scheduled full sync logged")
	}
}

// scrape fetches and parses a metrics endpoint.
func scrape(t *testing.T, url string) map[string]*dtoFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("scraping %s: %s\n%s", url, resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return fams
}

type dtoFamily = dto.MetricFamily

// label returns the value of a metric's label.
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A reload that replaces a tree's pipeline (its delay changed) loses no
// change the old coalescer held: it is handed on as the old one stops.
func TestReloadReplacedPipelineKeepsPending(t *testing.T) { reloadReplacedPipelineKeepsPending(t, "") }

func TestReloadReplacedPipelineKeepsPendingFanotify(t *testing.T) {
	needFanotify(t)
	reloadReplacedPipelineKeepsPending(t, fanotifyCfg)
}

// reloadReplacedPipelineKeepsPending reloads with a change held, with
// cfgExtra added to the config.
func reloadReplacedPipelineKeepsPending(t *testing.T, cfgExtra string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 3600)
`+cfgExtra)
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the initial sync")
	writeFile(t, filepath.Join(base, "src/pending"), "held for an hour")
	testutil.Eventually(t, 10*time.Second, "the change held by the coalescer", func() bool {
		r, _ := o.report(t)
		return node(t, r, base+"/src").Pending == 1
	})
	writeCfg(t, o.cfg, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 3000)
`+cfgExtra)
	if code, out, errs := o.client("reload"); code != 0 || !strings.Contains(out, "1 rewatched (no tree synced whole)") {
		t.Fatalf("reload exit %d: %s%s", code, out, errs)
	}
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the held change, handed on by the replaced pipeline")
	// The new pipeline watches: a change after the reload waits its delay.
	writeFile(t, filepath.Join(base, "src/later"), "waits the new delay")
	testutil.Eventually(t, 10*time.Second, "the later change held by the new coalescer", func() bool {
		r, _ := o.report(t)
		return node(t, r, base+"/src").Pending == 1
	})
}

// A reload that shortens resync_interval plans the next drift repair from
// the new interval, not the old deadline.
func TestReloadShortensResyncInterval(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0, resync_interval = 3600)
`)
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the initial sync")
	writeCfg(t, o.cfg, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0, resync_interval = 1)
`)
	if code, out, errs := o.client("reload"); code != 0 {
		t.Fatalf("reload exit %d: %s%s", code, out, errs)
	}
	writeFile(t, filepath.Join(base, "dst/f"), "drifted on the target")
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "drift repaired on the new interval")
}

// While the final flush goes on, status still answers and says the daemon
// is stopping; once it has stopped, the status file says how it ended.
func TestStatusDuringFinalFlush(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	// An rsync whose list runs wait for the test to release them.
	release := filepath.Join(base, "release")
	held := filepath.Join(base, "rsync")
	script := "#!/bin/sh\ncase \"$*\" in *files-from*) while [ ! -e " + release + " ]; do sleep 0.05; done ;; esac\nexec /usr/bin/rsync \"$@\"\n"
	must(t, os.WriteFile(held, []byte(script), 0o755))
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0)
rsync = "@BASE@/rsync"
warm_rsync = False
status_file = "@BASE@/status.txt"
status_interval = 1
`)
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the initial sync")
	writeFile(t, filepath.Join(base, "src/g"), "held at stop")
	testutil.Eventually(t, 10*time.Second, "the held run", func() bool {
		r, _ := o.report(t)
		return node(t, r, base+"/src").Running == 1
	})
	o.cancel() // SIGTERM
	testutil.Eventually(t, 10*time.Second, "status saying it stops", func() bool {
		r, _ := o.report(t)
		return r.Stopping
	})
	if code, _, errs := o.client("resync"); code != 1 || !strings.Contains(errs, "inosync is stopping") {
		t.Errorf("resync while stopping: exit %d, %s", code, errs)
	}
	must(t, os.WriteFile(release, nil, 0o644))
	<-o.done
	if o.err != nil {
		t.Fatal(o.err)
	}
	b, err := os.ReadFile(filepath.Join(base, "status.txt"))
	if err != nil || !strings.Contains(string(b), ": everything seen was synced") || !strings.Contains(string(b), "stopped at ") {
		t.Errorf("status file after the stop: %q, %v", b, err)
	}
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the held change, synced by the final flush")
}

// A config that no longer loads (here a tree whose directory is gone) does
// not keep `inosync status` from finding the daemon by the file's name,
// nor make it warn while the daemon answers; once no daemon answers, it
// says why the config did not load.
func TestStatusWithConfigNotLoading(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/a"), "1")
	o := startObserved(t, base, oneLocalTree)
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the initial sync")
	writeCfg(t, o.cfg, base, oneLocalTree+`sync("@BASE@/gone/", "@BASE@/dst2/", nodes = [""])
`)
	code, out, errs := o.client("status")
	if code != 0 || !strings.Contains(out, "1 tree, 1 node") || errs != "" {
		t.Errorf("status with a config that does not load: exit %d, stdout %q, stderr %q; want the daemon's answer and no warning", code, out, errs)
	}
	must(t, o.stop(t))
	if _, _, errs := o.client("status"); !strings.Contains(errs, "no such directory") {
		t.Errorf("status with no daemon: stderr %q, want why the config did not load", errs)
	}
}

// A setting that takes effect only at a restart is warned about when a
// reload gives it another value than the running one, and not when a
// later reload gives it back the running value.
func TestRestartOnlySettingWarnedAgainstRunning(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	cfg := `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0)
`
	o := startObserved(t, base, cfg+"warm_rsync = True\n")
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the initial sync")
	const warning = "warm_rsync changed: it takes effect when inosync is restarted"
	writeCfg(t, o.cfg, base, cfg+"warm_rsync = False\n")
	if code, out, errs := o.client("reload"); code != 0 {
		t.Fatalf("reload exit %d: %s%s", code, out, errs)
	}
	if n := strings.Count(o.logs.String(), warning); n != 1 {
		t.Fatalf("%d warnings after a reload that changed warm_rsync, want 1:\n%s", n, o.logs.String())
	}
	writeCfg(t, o.cfg, base, cfg+"warm_rsync = True\n")
	if code, out, errs := o.client("reload"); code != 0 {
		t.Fatalf("reload exit %d: %s%s", code, out, errs)
	}
	if n := strings.Count(o.logs.String(), warning); n != 1 {
		t.Errorf("%d warnings after a reload back to the running value, want still 1:\n%s", n, o.logs.String())
	}
}
