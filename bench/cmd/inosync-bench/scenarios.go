package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

var inf = math.Inf(1)

const (
	writeTimeout    = 5 * time.Second   // one latency write
	convergeTimeout = 180 * time.Second // a burst
	pollLatency     = 250 * time.Microsecond
)

// latencyContent is write i's bytes: each write has its own size (64+i
// bytes), so rsync's quick check (size, mtime in whole seconds for
// lsyncd) can never mistake it for the previous one (ANCHORS G1).
func latencyContent(i int) []byte {
	s := fmt.Sprintf("write %04d ", i)
	return []byte(s + strings.Repeat("x", 64+i-len(s)-1) + "\n")
}

// waitContent polls dst every 250 µs until it holds want; it returns the
// time since t0, or +Inf at the deadline.
func waitContent(dst string, want []byte, t0 time.Time, timeout time.Duration) float64 {
	deadline := t0.Add(timeout)
	for {
		got, err := os.ReadFile(dst)
		if err == nil && bytes.Equal(got, want) {
			return float64(time.Since(t0)) / 1e6
		}
		if time.Now().After(deadline) {
			return inf
		}
		pollSleep(pollLatency)
	}
}

// latency runs b.writes writes of src, scheduled b.gap apart (write i at
// start + i·gap, or at once when write i-1 took longer), and returns each
// write's latency in ms: from just before open(O_TRUNC)+write+close of src
// until dst holds the same bytes. A write that never lands is +Inf; after
// 3 in a row the rest are +Inf too, so a dead daemon cannot stall the run.
func (b *bench) latency(src, dst string) []float64 {
	lat, _ := b.latencyWrites(b.writes, b.gap, func(int) (string, string) { return src, dst })
	return lat
}

// latencyWrites is latency for n writes gap apart, write i to the file
// path(i) names (its source and its target), and returns too when each
// write began (just before its open).
func (b *bench) latencyWrites(n int, gap time.Duration, path func(i int) (src, dst string)) ([]float64, []time.Time) {
	out := make([]float64, 0, n)
	at := make([]time.Time, 0, n)
	start := time.Now()
	misses := 0
	for i := 0; i < n; i++ {
		if misses >= 3 {
			out = append(out, inf)
			at = append(at, time.Time{})
			continue
		}
		if w := time.Until(start.Add(time.Duration(i) * gap)); w > 0 {
			time.Sleep(w)
		}
		src, dst := path(i)
		want := latencyContent(i)
		t0 := time.Now()
		at = append(at, t0)
		if err := os.WriteFile(src, want, 0o644); err != nil {
			b.note("latency write %s: %v", src, err)
			out = append(out, math.NaN())
			continue
		}
		v := waitContent(dst, want, t0, writeTimeout)
		if math.IsInf(v, 1) {
			misses++
		} else {
			misses = 0
		}
		out = append(out, v)
	}
	return out, at
}

// latencyRuns records the rsync runs a latency run caused, counted once
// the daemon is quiet, and returns their number.
func (b *bench) latencyRuns(d *daemon, off int64, key string) int {
	if err := d.waitQuiet(300*time.Millisecond, 30*time.Second); err != nil {
		b.note("%s: not quiet after the latency writes: %v", d.kind, err)
	}
	n := d.countRuns(off)
	b.record(key, d.kind, float64(n))
	return n
}

// launchOn makes t's target equal to its source again, writes back what
// is dirty, and launches kind on it.
func (b *bench) launchOn(kind string, t *tree) (*daemon, error) {
	if err := b.resync(t); err != nil {
		return nil, err
	}
	b.settleDisk()
	return b.launch(kind, t.src, t.dst)
}

// sortedValid returns vs without NaNs (errors), sorted.
func sortedValid(vs []float64) []float64 {
	s := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	sort.Float64s(s)
	return s
}

// percentile is the nearest-rank percentile (p in 0..100) of vs.
func percentile(vs []float64, p float64) float64 {
	s := sortedValid(vs)
	if len(s) == 0 {
		return math.NaN()
	}
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	if k < 0 {
		k = 0
	}
	return s[k]
}

// failed records v for every key (Inf for a timeout, NaN for an error).
func (b *bench) failed(kind string, err error, keys ...string) {
	v := math.NaN()
	if errors.Is(err, errTimeout) {
		v = inf
	}
	b.note("%s: %v", kind, err)
	for _, k := range keys {
		b.record(k, kind, v)
	}
}

// scenarioEmpty: latency in the empty tree.
func (b *bench) scenarioEmpty(kind string) {
	t := b.empty
	keys := []string{"lat_empty_p50", "lat_empty_p99"}
	os.Remove(filepath.Join(t.src, "lat.txt"))
	d, err := b.launchOn(kind, t)
	if err != nil {
		b.failed(kind, err, keys...)
		return
	}
	defer b.finish(d, "empty tree")
	if _, err := d.waitReady(60 * time.Second); err != nil {
		b.failed(kind, err, keys...)
		return
	}
	if err := d.waitQuiet(300*time.Millisecond, 30*time.Second); err != nil {
		b.note("%s: empty tree: not quiet after startup: %v", kind, err)
	}
	if kb, err := procStatusKB(d.pid, "VmRSS"); err == nil {
		b.record("rss_empty", kind, float64(kb)/1024)
	}
	if kb, err := procStatusKB(d.pid, "RssAnon"); err == nil {
		b.record("anon_empty", kind, float64(kb)/1024)
	}
	off := d.logSize()
	lat := b.latency(filepath.Join(t.src, "lat.txt"), filepath.Join(t.dst, "lat.txt"))
	b.latencyRuns(d, off, "lat_empty_runs")
	b.record("lat_empty_p50", kind, percentile(lat, 50))
	b.record("lat_empty_p99", kind, percentile(lat, 99))
	b.logf("  %s empty tree: latency p50 %s p99 %s", kind, fmtMS(percentile(lat, 50)), fmtMS(percentile(lat, 99)))
}

// scenarioBig: on the big (50k-dir) tree: launch → ready, RSS after
// startup, 10 s idle, then latency three levels down.
func (b *bench) scenarioBig(kind string) {
	t := b.big
	keys := []string{"ready_big", "rss_big", "hwm_big", "anon_big", "idle_cpu", "idle_vcsw", "idle_run", "lat_big_p50", "lat_big_p99"}
	sub := filepath.Join("d0", "d20", "d420", "lat.txt")
	os.Remove(filepath.Join(t.src, sub))
	d, err := b.launchOn(kind, t)
	if err != nil {
		b.failed(kind, err, keys...)
		return
	}
	defer b.finish(d, "big tree")
	ready, err := d.waitReady(300 * time.Second)
	if err != nil {
		b.failed(kind, err, keys...)
		return
	}
	b.record("ready_big", kind, ready.Seconds())
	if err := d.waitQuiet(500*time.Millisecond, 60*time.Second); err != nil {
		b.note("%s: big tree: not quiet after startup: %v", kind, err)
	}
	time.Sleep(time.Second)
	rss, err1 := procStatusKB(d.pid, "VmRSS")
	hwm, err2 := procStatusKB(d.pid, "VmHWM")
	if err1 != nil || err2 != nil {
		b.note("%s: RSS: %v %v", kind, err1, err2)
	}
	b.record("rss_big", kind, float64(rss)/1024)
	b.record("hwm_big", kind, float64(hwm)/1024)
	if kb, err := procStatusKB(d.pid, "RssAnon"); err == nil {
		b.record("anon_big", kind, float64(kb)/1024)
	}

	cpu0, _ := procCPU(d.pid)
	v0, _, r0, _ := taskCounters(d.pid)
	time.Sleep(b.idle)
	cpu1, _ := procCPU(d.pid)
	v1, _, r1, _ := taskCounters(d.pid)
	b.record("idle_cpu", kind, (cpu1-cpu0)*1000)
	b.record("idle_vcsw", kind, float64(v1-v0))
	b.record("idle_run", kind, float64(r1-r0)/1e6)
	b.logf("  %s big tree: ready %.2fs, VmRSS %.1f MiB, VmHWM %.1f MiB, idle cpu %.0f ms, %d voluntary switches, %.3f ms on cpu",
		kind, ready.Seconds(), float64(rss)/1024, float64(hwm)/1024, (cpu1-cpu0)*1000, v1-v0, float64(r1-r0)/1e6)

	off := d.logSize()
	lat := b.latency(filepath.Join(t.src, sub), filepath.Join(t.dst, sub))
	b.latencyRuns(d, off, "lat_big_runs")
	b.record("lat_big_p50", kind, percentile(lat, 50))
	b.record("lat_big_p99", kind, percentile(lat, 99))
	b.logf("  %s big tree: latency p50 %s p99 %s", kind, fmtMS(percentile(lat, 50)), fmtMS(percentile(lat, 99)))
}

// recordMemory records, under prefix p, the daemon's VmRSS now and its
// VmHWM (the most it has held), in MiB.
func (b *bench) recordMemory(d *daemon, p string) {
	for key, field := range map[string]string{p + "rss": "VmRSS", p + "hwm": "VmHWM"} {
		kb, err := procStatusKB(d.pid, field)
		if err != nil {
			b.note("%s: %s: %v", d.kind, field, err)
			continue
		}
		b.record(key, d.kind, float64(kb)/1024)
	}
}

// loadDir is where the load rows write their new files: an existing
// directory of the mid tree, three levels down (d0/d20/d420).
var loadDir = dirRel(420)

// loadFile is the name of the load rows' file i with busy busy processes.
func loadFile(busy, i int) string {
	return filepath.Join(loadDir, fmt.Sprintf("new_b%d_%02d.txt", busy, i))
}

// loadClean removes the load rows' files from their tree's source (the
// next resync removes them from the target).
func (b *bench) loadClean(busy int) {
	for i := 0; i < b.loadWrites; i++ {
		os.Remove(filepath.Join(b.burst.src, loadFile(busy, i)))
	}
}

// scenarioLoad: latency of new files in the mid tree with busy CPU-bound
// processes beside the daemon. Launch → ready → quiet; then start the busy
// processes, write b.loadWrites new files (a new name each) b.loadGap
// apart into an existing directory three levels down, timing each until
// the target holds its bytes, and stop the busy processes. With busy = 0
// it is the same without load, for reference.
func (b *bench) scenarioLoad(kind string, busy int) {
	t := b.burst // the 20k-dir tree on a tmpfs when there is one: a disk stall is one write's p99
	p := fmt.Sprintf("load_%d_", busy)
	keys := []string{p + "p50", p + "p99", p + "runs"}
	if busy > 0 {
		keys = append(keys, p+"busy")
	}
	b.loadClean(busy)
	defer b.loadClean(busy)
	d, err := b.launchOn(kind, t)
	if err != nil {
		b.failed(kind, err, keys...)
		return
	}
	defer b.finish(d, fmt.Sprintf("load, %d busy", busy))
	if _, err := d.waitReady(120 * time.Second); err != nil {
		b.failed(kind, err, keys...)
		return
	}
	if err := d.waitQuiet(500*time.Millisecond, 60*time.Second); err != nil {
		b.note("%s: load, %d busy: not quiet after startup: %v", kind, busy, err)
	}
	off := d.logSize()
	var load *busySet
	if busy > 0 {
		if load, err = startBusy(busy); err != nil {
			b.failed(kind, err, keys...)
			return
		}
		defer load.stop() // also when a write fails or times out
		time.Sleep(100 * time.Millisecond)
	}
	write := b.latencyStream
	if b.loadWaits {
		write = b.latencyWrites
	}
	lat, at := write(b.loadWrites, b.loadGap, func(i int) (string, string) {
		f := loadFile(busy, i)
		return filepath.Join(t.src, f), filepath.Join(t.dst, f)
	})
	share := 0.0
	if load != nil {
		share = load.share()
		load.stop()
		b.record(p+"busy", kind, share)
	}
	runs := b.latencyRuns(d, off, p+"runs")
	b.record(p+"p50", kind, percentile(lat, 50))
	b.record(p+"p99", kind, percentile(lat, 99))
	b.writeSamples(d, lat, at)
	got := ""
	if busy > 0 {
		got = fmt.Sprintf("; the busy processes had %.0f%% of %d CPU(s)", share, busy)
	}
	b.logf("  %s load, %d busy: new-file latency p50 %s p99 %s (the slowest: write %d of %d), %d rsync runs%s",
		kind, busy, fmtMS(percentile(lat, 50)), fmtMS(percentile(lat, 99)), argMax(lat), len(lat), runs, got)
}

// writeSamples writes each write's start (Unix ns) and latency (ms) to
// latency.tsv beside the daemon's log, to match outliers with its log
// lines (-keep keeps them).
func (b *bench) writeSamples(d *daemon, lat []float64, at []time.Time) {
	var s strings.Builder
	s.WriteString("write\tstart_unix_ns\tlatency_ms\n")
	for i, v := range lat {
		fmt.Fprintf(&s, "%d\t%d\t%.3f\n", i, at[i].UnixNano(), v)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(d.logPath), "latency.tsv"), []byte(s.String()), 0o644); err != nil {
		b.logf("  cannot write latency.tsv: %v", err)
	}
}

// argMax is the index of the largest value of vs (NaNs left out), or -1.
func argMax(vs []float64) int {
	k := -1
	for i, v := range vs {
		if !math.IsNaN(v) && (k < 0 || v > vs[k]) {
			k = i
		}
	}
	return k
}

// burstPaths returns the burst's directories to create (new mode) and its
// files, as paths relative to the tree. Both modes spread over the tree:
// directory j is at index j·stride of the mid tree; new mode makes a fresh
// directory "bn<j>" inside it, existing mode writes into it directly.
func (b *bench) burstPaths(mode string, t *tree) (dirs, files []string) {
	stride := t.dirs / b.burstDirs
	if stride < 1 {
		stride = 1
	}
	for j := 0; j < b.burstDirs; j++ {
		base := dirRel((j * stride) % t.dirs)
		if mode == "new" {
			base = filepath.Join(base, fmt.Sprintf("bn%d", j))
			dirs = append(dirs, base)
		}
		for k := 0; k < b.burstFiles; k++ {
			files = append(files, filepath.Join(base, fmt.Sprintf("burst_%d_%d", j, k)))
		}
	}
	return dirs, files
}

// burstClean removes a burst's files and directories from the source (the
// next resync removes them from the target).
func (b *bench) burstClean(mode string, t *tree) {
	dirs, files := b.burstPaths(mode, t)
	for _, f := range files {
		os.Remove(filepath.Join(t.src, f))
	}
	for _, d := range dirs {
		os.RemoveAll(filepath.Join(t.src, d))
	}
}

// scenarioBurst writes burstDirs×burstFiles files (into new or existing
// directories of tree t, a mid-sized tree) as fast as one writer can, and
// measures convergence, the rsync runs and the daemon's own CPU, as the
// figures whose keys start with p.
func (b *bench) scenarioBurst(kind, mode string, t *tree, p string) {
	keys := []string{p + "conv", p + "tail", p + "writer", p + "runs", p + "cpu", p + "csw"}
	b.burstClean(mode, t)
	defer b.burstClean(mode, t)
	d, err := b.launchOn(kind, t)
	if err != nil {
		b.failed(kind, err, keys...)
		return
	}
	defer b.finish(d, "burst "+mode)
	if _, err := d.waitReady(120 * time.Second); err != nil {
		b.failed(kind, err, keys...)
		return
	}
	if err := d.waitQuiet(500*time.Millisecond, 60*time.Second); err != nil {
		b.note("%s: burst: not quiet after startup: %v", kind, err)
	}
	dirs, files := b.burstPaths(mode, t)
	off := d.logSize()
	cpu0, err := procCPU(d.pid)
	if err != nil {
		b.failed(kind, err, keys...)
		return
	}
	vol0, invol0, _, _ := taskCounters(d.pid)
	body := []byte(strings.Repeat("burst file content\n", 5))

	t0 := time.Now()
	di := 0
	for i, f := range files {
		if mode == "new" && i%b.burstFiles == 0 {
			if err := os.Mkdir(filepath.Join(t.src, dirs[di]), 0o755); err != nil {
				b.failed(kind, err, keys...)
				return
			}
			di++
		}
		if err := os.WriteFile(filepath.Join(t.src, f), body, 0o644); err != nil {
			b.failed(kind, err, keys...)
			return
		}
		for w := time.Now(); time.Since(w) < b.burstGap; { // a slow writer, without sleeping
		}
	}
	writer := time.Since(t0)

	missing := files
	deadline := t0.Add(convergeTimeout)
	conv := inf
	for {
		rest := missing[:0]
		for _, f := range missing {
			if _, err := os.Lstat(filepath.Join(t.dst, f)); err != nil {
				rest = append(rest, f)
			}
		}
		missing = rest
		if len(missing) == 0 {
			conv = time.Since(t0).Seconds()
			break
		}
		if time.Now().After(deadline) || !d.alive() {
			b.note("%s: burst %s: %d of %d files still missing after %v (alive %v)", kind, mode, len(missing), len(files), time.Since(t0).Round(time.Millisecond), d.alive())
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := d.waitQuiet(time.Second, 60*time.Second); err != nil {
		b.note("%s: burst %s: not quiet after convergence: %v", kind, mode, err)
	}
	cpu1, _ := procCPU(d.pid)
	vol1, invol1, _, _ := taskCounters(d.pid)
	b.recordMemory(d, p)
	runs := d.countRuns(off)
	b.record(p+"conv", kind, conv)
	b.record(p+"tail", kind, conv-writer.Seconds())
	b.record(p+"writer", kind, writer.Seconds())
	b.record(p+"runs", kind, float64(runs))
	b.record(p+"cpu", kind, cpu1-cpu0)
	b.record(p+"csw", kind, float64(vol1+invol1-vol0-invol0))
	b.logf("  %s burst %s: converged %s (writer %.2fs), %d rsync runs, daemon cpu %.2fs, %d context switches", kind, mode, fmtS(conv), writer.Seconds(), runs, cpu1-cpu0, vol1+invol1-vol0-invol0)
}

// scenarioRestart: the mid tree is in sync; launch, wait for the startup
// rsync to begin (the daemon's first child process), write a new file in
// the root 50 ms later, and time launch → that file is on the target.
func (b *bench) scenarioRestart(kind string) {
	t := b.mid
	keys := []string{"restart_child", "restart_sync", "restart_ready"}
	probe := "restart-probe.txt"
	os.Remove(filepath.Join(t.src, probe))
	d, err := b.launchOn(kind, t)
	if err != nil {
		b.failed(kind, err, keys...)
		return
	}
	defer b.finish(d, "restart")
	type readyResult struct {
		at  time.Duration
		err error
	}
	readyCh := make(chan readyResult, 1)
	go func() {
		at, err := d.waitReady(120 * time.Second)
		readyCh <- readyResult{at, err}
	}()
	var ready *readyResult
	childAt := time.Duration(-1)
	deadline := d.launched.Add(120 * time.Second)
	for childAt < 0 && ready == nil {
		if len(children(d.pid)) > 0 {
			childAt = time.Since(d.launched)
			break
		}
		select {
		case r := <-readyCh:
			ready = &r
		default:
		}
		if time.Now().After(deadline) || !d.alive() {
			break
		}
		pollSleep(500 * time.Microsecond)
	}
	var writeAt time.Time
	switch {
	case childAt >= 0:
		writeAt = d.launched.Add(childAt + 50*time.Millisecond)
		b.record("restart_child", kind, childAt.Seconds())
	case ready != nil && ready.err == nil:
		// No startup rsync seen before ready: write 50 ms after ready.
		b.note("%s: restart: no child process seen before ready; wrote 50 ms after ready", kind)
		writeAt = d.launched.Add(ready.at + 50*time.Millisecond)
		b.record("restart_child", kind, math.NaN())
	default:
		err := errTimeout
		if ready != nil && ready.err != nil {
			err = ready.err
		}
		b.failed(kind, err, keys...)
		return
	}
	time.Sleep(time.Until(writeAt))
	want := []byte(fmt.Sprintf("restart probe of %s at %s\n", kind, time.Now().Format(time.RFC3339Nano)))
	t0 := time.Now()
	if err := os.WriteFile(filepath.Join(t.src, probe), want, 0o644); err != nil {
		b.failed(kind, err, "restart_sync", "restart_ready")
		return
	}
	v := waitContent(filepath.Join(t.dst, probe), want, t0, 120*time.Second)
	synced := inf
	if !math.IsInf(v, 1) {
		synced = t0.Sub(d.launched).Seconds() + v/1000
	}
	b.record("restart_sync", kind, synced)
	if ready == nil {
		r := <-readyCh
		ready = &r
	}
	if ready.err != nil {
		b.failed(kind, ready.err, "restart_ready")
	} else {
		b.record("restart_ready", kind, ready.at.Seconds())
	}
	b.logf("  %s restart: startup rsync began %.3fs, probe synced %s, ready %.3fs", kind, childAt.Seconds(), fmtS(synced), ready.at.Seconds())
}

// finish stops the daemon and notes any warnings or errors it logged.
func (b *bench) finish(d *daemon, scenario string) {
	d.stop()
	if n, first := d.problems(); n > 0 {
		b.note("%s, %s: %d warning/error line(s) in its log, first: %s", d.kind, scenario, n, first)
	}
}
