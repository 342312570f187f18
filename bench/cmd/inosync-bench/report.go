package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// rowSpec is one figure of the table.
type rowSpec struct {
	key    string
	label  string
	unit   string  // ms, s, MiB, n, cpu-ms, %
	limit  float64 // target: ours/lsyncd ≤ limit; 0 = none
	zero   bool    // target: ours = 0
	anchor string  // lsyncd's median in ANCHORS.md (row id)
}

func (b *bench) rows() []rowSpec {
	mid, big := b.mid.name, b.big.name
	burst := fmt.Sprintf("%d files in %d", b.burstDirs*b.burstFiles, b.burstDirs)
	where := ""
	if b.burst != nil && b.burst != b.mid {
		where = ", tmpfs"
	}
	rows := []rowSpec{
		{"lat_empty_p50", "latency p50, empty tree", "ms", 0.8, false, "9.0 ms (a1)"},
		{"lat_empty_p99", "latency p99, empty tree", "ms", 0.5, false, "48.2 ms (a2)"},
		{"lat_empty_runs", fmt.Sprintf("  same: rsync runs for the %d writes", b.writes), "n", 0, false, ""},
		{"lat_big_p50", "latency p50, " + big + " tree, 3 levels down", "ms", 0.8, false, "11.4 ms (a4)"},
		{"lat_big_p99", "latency p99, " + big + " tree, 3 levels down", "ms", 0.5, false, "17.1 ms (a5)"},
		{"lat_big_runs", fmt.Sprintf("  same: rsync runs for the %d writes", b.writes), "n", 0, false, ""},
	}
	for _, n := range b.loadBusy {
		p, limit, busy := fmt.Sprintf("load_%d_", n), 0.5, fmt.Sprintf("%d core%s busy", n, plural(n))
		if n == 0 {
			limit, busy = 0, "no core busy"
		}
		rows = append(rows,
			rowSpec{p + "p50", "new-file latency p50, " + mid + " tree, " + busy, "ms", limit, false, ""},
			rowSpec{p + "p99", "new-file latency p99, " + mid + " tree, " + busy, "ms", limit, false, ""},
			rowSpec{p + "runs", fmt.Sprintf("  same: rsync runs for the %d new files", b.loadWrites), "n", 0, false, ""})
		if n > 0 {
			rows = append(rows, rowSpec{p + "busy", fmt.Sprintf("  same: CPU the busy processes got, of %d core%s", n, plural(n)), "%", 0, false, ""})
		}
	}
	return append(rows, []rowSpec{
		{"burst_new_conv", "burst " + burst + " new dirs (" + mid + where + "): converged", "s", 0.4, false, "5.02 s (b1)"},
		{"burst_new_tail", "  same: converged after the last write", "s", 0, false, "1.15 s (b2)"},
		{"burst_new_writer", "  same: writer's own time", "s", 0, false, "0.9–5.2 s"},
		{"burst_new_runs", "  same: rsync runs", "n", 0, false, "15 (b3)"},
		{"burst_new_cpu", "  same: daemon CPU (utime+stime)", "s", 0.1, false, "2.73 s (b4)"},
		{"burst_new_csw", "  same: daemon context switches, all threads", "n", 0, false, ""},
		{"burst_new_rss", "  same: daemon VmRSS once quiet after it", "MiB", 0, false, ""},
		{"burst_new_hwm", "  same: daemon VmHWM (its peak since launch)", "MiB", 0, false, ""},
		{"burst_existing_conv", "burst " + burst + " existing dirs (" + mid + where + "): converged", "s", 0.5, false, "6.66 s (b5)"},
		{"burst_existing_tail", "  same: converged after the last write", "s", 0, false, "3.51 s (b6)"},
		{"burst_existing_writer", "  same: writer's own time", "s", 0, false, ""},
		{"burst_existing_runs", "  same: rsync runs", "n", 0, false, "69 (b7)"},
		{"burst_existing_cpu", "  same: daemon CPU (utime+stime)", "s", 0.1, false, "5.73 s (b8)"},
		{"burst_existing_csw", "  same: daemon context switches, all threads", "n", 0, false, ""},
		{"burst_existing_rss", "  same: daemon VmRSS once quiet after it", "MiB", 0, false, ""},
		{"burst_existing_hwm", "  same: daemon VmHWM (its peak since launch)", "MiB", 0, false, ""},
		{"burst_newdisk_conv", "burst " + burst + " new dirs (" + mid + ", disk): converged", "s", 0, false, "5.02 s (b1)"},
		{"burst_newdisk_writer", "  same: writer's own time", "s", 0, false, "0.9–5.2 s"},
		{"burst_newdisk_runs", "  same: rsync runs", "n", 0, false, "15 (b3)"},
		{"burst_newdisk_cpu", "  same: daemon CPU (utime+stime)", "s", 0, false, "2.73 s (b4)"},
		{"restart_child", "restart (" + mid + ", in sync): launch → startup rsync began", "s", 0, false, "0.32 s (c1)"},
		{"restart_sync", "restart: launch → change written 50 ms after that is on the target", "s", 0.7, false, "1.78 s (c3)"},
		{"restart_ready", "restart: launch → ready (startup sync done)", "s", 0, false, "1.54 s (c2)"},
		{"ready_big", big + " tree: launch → ready", "s", 0, false, "4.23 s (d3)"},
		{"rss_big", "VmRSS while watching the " + big + " tree", "MiB", 0.9, false, "17.72 MB (d1)"},
		{"hwm_big", "VmHWM while watching the " + big + " tree", "MiB", 0.9, false, "17.72 MB (d1)"},
		{"anon_big", "  same: RssAnon (private memory, the binary's pages left out)", "MiB", 0, false, ""},
		{"rss_empty", "VmRSS, empty tree", "MiB", 0, false, "2.8 MB (d1)"},
		{"anon_empty", "  same: RssAnon", "MiB", 0, false, ""},
		{"idle_cpu", "idle 10 s (" + big + "): CPU (utime+stime)", "cpu-ms", 0, true, "0 (e1)"},
		{"idle_run", "idle 10 s: time on CPU, all threads (schedstat)", "ms", 0, false, "0 ns (e1)"},
		{"idle_vcsw", "idle 10 s: voluntary context switches, all threads", "n", 0, false, "0 (e1)"},
	}...)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// median of the finite and infinite values (NaN = error, left out).
func median(vs []float64) float64 {
	s := sortedValid(vs)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	a, c := s[len(s)/2-1], s[len(s)/2]
	if math.IsInf(c, 1) {
		return c
	}
	return (a + c) / 2
}

func fmtMS(v float64) string { return fmtVal(v, "ms") }
func fmtS(v float64) string  { return fmtVal(v, "s") }

func fmtVal(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "error"
	case math.IsInf(v, 1):
		return "timeout"
	}
	switch unit {
	case "ms":
		if v >= 100 {
			return fmt.Sprintf("%.0f ms", v)
		}
		return fmt.Sprintf("%.1f ms", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	case "cpu-ms":
		return fmt.Sprintf("%.0f ms", v)
	case "%":
		return fmt.Sprintf("%.0f%%", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// cell is a median with a mark when some rounds failed.
func cell(vs []float64, unit string) string {
	s := fmtVal(median(vs), unit)
	bad := 0
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 1) {
			bad++
		}
	}
	if bad > 0 && !math.IsInf(median(vs), 1) {
		s += fmt.Sprintf(" (%d/%d failed)", bad, len(vs))
	}
	if len(vs) == 0 {
		s = "–"
	}
	return s
}

type reportOut struct{ text, markdown string }

type tableRow struct{ figure, ours, theirs, ratio, target, status, anchor string }

func (b *bench) table() (rows []tableRow, met, missed int) {
	for _, r := range b.rows() {
		ov, tv := b.results[r.key][kindInosync], b.results[r.key][kindLsyncd]
		om, tm := median(ov), median(tv)
		tr := tableRow{figure: r.label, ours: cell(ov, r.unit), theirs: cell(tv, r.unit), ratio: "–", anchor: r.anchor}
		finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
		if finite(om) && finite(tm) && tm > 0 {
			tr.ratio = fmtRatio(om / tm)
		}
		switch {
		case r.limit > 0:
			tr.target = fmt.Sprintf("≤ %.1f", r.limit)
			switch {
			case math.IsInf(om, 1):
				tr.status = "missed"
			case finite(om) && finite(tm) && tm > 0:
				tr.status = "missed"
				if om/tm <= r.limit {
					tr.status = "met"
				}
			case finite(om) && math.IsInf(tm, 1):
				tr.status = "met (lsyncd timed out)"
			default:
				tr.status = "n/a"
			}
		case r.zero:
			tr.target = "ours = 0"
			switch {
			case om == 0:
				tr.status = "met"
			case finite(om):
				tr.status = "missed"
			default:
				tr.status = "n/a"
			}
		}
		switch {
		case strings.HasPrefix(tr.status, "met"):
			met++
		case tr.status == "missed":
			missed++
		}
		rows = append(rows, tr)
	}
	// Ours only: latency in the big tree within 1.5× of the empty tree.
	e, g := median(b.results["lat_empty_p50"][kindInosync]), median(b.results["lat_big_p50"][kindInosync])
	tr := tableRow{figure: "inosync only: latency p50, " + b.big.name + " tree / empty tree", ours: "–", theirs: "–", ratio: "–", target: "≤ 1.5", status: "n/a"}
	if le, lg := median(b.results["lat_empty_p50"][kindLsyncd]), median(b.results["lat_big_p50"][kindLsyncd]); le > 0 && !math.IsInf(le, 0) && !math.IsInf(lg, 0) {
		tr.theirs = fmt.Sprintf("(%.2f)", lg/le)
	}
	if e > 0 && !math.IsInf(e, 0) && !math.IsNaN(g) {
		if math.IsInf(g, 1) {
			tr.ours, tr.status = "timeout", "missed"
		} else {
			tr.ours = fmt.Sprintf("%.2f", g/e)
			tr.ratio = tr.ours
			tr.status = "missed"
			if g/e <= 1.5 {
				tr.status = "met"
			}
		}
	}
	switch tr.status {
	case "met":
		met++
	case "missed":
		missed++
	}
	rows = append(rows, tr)
	return rows, met, missed
}

// altTable compares the -inosync-alt binary with inosync (see
// against).
func (b *bench) altTable() []tableRow {
	if b.inosyncAltBin == "" {
		return nil
	}
	return b.against(kindAlt)
}

// trickTables compares inosync with each of its timing tricks turned off
// against inosync (see against), by trick kind.
func (b *bench) trickTables() map[string][]tableRow {
	if !b.tricks {
		return nil
	}
	out := map[string][]tableRow{}
	for _, k := range trickKinds {
		out[k] = b.against(k)
	}
	return out
}

// trickWords says which trick each of trickKinds turns off.
var trickWords = map[string]string{
	kindNoWarm:   "`warm_rsync = False`: no rsync started ahead of need; each run starts its own",
	kindAllProcs: "`GOMAXPROCS` set to the number of CPUs (the Go runtime's default): more than one processor, and with that no intake pace",
}

// against compares daemon kind with inosync, on every row where kind has
// a value: no targets, only kind/inosync of the medians.
func (b *bench) against(kind string) []tableRow {
	var rows []tableRow
	for _, r := range b.rows() {
		ov, av := b.results[r.key][kindInosync], b.results[r.key][kind]
		if len(av) == 0 {
			continue
		}
		tr := tableRow{figure: r.label, ours: cell(ov, r.unit), theirs: cell(av, r.unit), ratio: "–"}
		om, am := median(ov), median(av)
		if !math.IsNaN(om) && !math.IsInf(om, 0) && om > 0 && !math.IsNaN(am) && !math.IsInf(am, 0) {
			tr.ratio = fmtRatio(am / om)
		}
		rows = append(rows, tr)
	}
	return rows
}

func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unknown"
	}
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func machine() []string {
	model := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, ln := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(ln, "model name") {
				if i := strings.IndexByte(ln, ':'); i >= 0 {
					model = strings.TrimSpace(ln[i+1:])
				}
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, ln := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(ln, "MemTotal:") {
				f := strings.Fields(ln)
				if len(f) >= 2 {
					var kb float64
					fmt.Sscan(f[1], &kb)
					mem = fmt.Sprintf("%.1f GiB", kb/1024/1024)
				}
			}
		}
	}
	fs := firstLine("sh", "-c", "df -PT /tmp | awk 'NR==2{print $2}'")
	return []string{
		fmt.Sprintf("CPUs (nproc): %d", runtime.NumCPU()),
		"CPU model: " + model,
		"kernel: Linux " + strings.TrimSpace(string(kernel)),
		"memory: " + mem,
		"filesystem of /tmp: " + fs,
	}
}

func (b *bench) versions() []string {
	lsv := firstLine(b.lsyncdBin, "--version")
	if deb := firstLine("dpkg-query", "-W", "-f", "${Version}", "lsyncd"); deb != "unknown" && !strings.Contains(deb, "no packages") {
		lsv += " (Debian " + deb + ")"
	}
	commit := firstLine("git", "rev-parse", "--short", "HEAD")
	if firstLine("sh", "-c", "git status --porcelain -- . | head -1") != "" {
		commit += " (working tree has uncommitted changes)"
	}
	v := []string{"inosync: " + firstLine(b.inosyncBin, "--version") + ", commit " + commit}
	if b.inosyncAltBin != "" {
		v = append(v, "inosync-alt: "+b.inosyncAltBin+", "+firstLine(b.inosyncAltBin, "--version"))
	}
	return append(v,
		"lsyncd: "+lsv,
		"rsync: "+firstLine(b.rsyncBin, "--version"),
		"harness built with "+runtime.Version(),
	)
}

func (b *bench) report(elapsed time.Duration) reportOut {
	rows, met, missed := b.table()
	hdr := tableRow{"figure", "inosync", "lsyncd", "ours/lsyncd", "target", "status", "lsyncd in ANCHORS"}

	// Plain text for the terminal.
	var t strings.Builder
	mode := "full"
	if b.quick {
		mode = "QUICK (BENCH_QUICK=1: one round, smaller trees; not comparable with the anchors)"
	}
	fmt.Fprintf(&t, "inosync vs lsyncd, %s mode, %d round(s) each, medians over rounds; run took %s\n", mode, b.rounds, elapsed.Round(time.Second))
	t.WriteString(textTable(append([]tableRow{hdr}, rows...), 7))
	fmt.Fprintf(&t, "targets met: %d, missed: %d\n", met, missed)
	alt := b.altTable()
	if len(alt) > 0 {
		fmt.Fprintf(&t, "\ninosync-alt (%s) against inosync, same run, medians over rounds:\n", b.inosyncAltBin)
		t.WriteString(textTable(append([]tableRow{{figure: "figure", ours: "inosync", theirs: "inosync-alt", ratio: "alt/inosync"}}, alt...), 4))
	}
	tricks := b.trickTables()
	for _, k := range trickKinds {
		if len(tricks[k]) == 0 {
			continue
		}
		fmt.Fprintf(&t, "\n%s (inosync with %s) against inosync, same run, medians over rounds:\n", k, trickWords[k])
		t.WriteString(textTable(append([]tableRow{{figure: "figure", ours: "inosync", theirs: k, ratio: "it/inosync"}}, tricks[k]...), 4))
	}
	if len(b.notes) > 0 {
		t.WriteString("notes:\n")
		for _, n := range b.notes {
			t.WriteString("  - " + strings.ReplaceAll(n, "\n", "\n    ") + "\n")
		}
	}

	// Markdown.
	var m strings.Builder
	m.WriteString("# Benchmarks: inosync against lsyncd\n\n")
	m.WriteString("Generated by `make bench` (bench/cmd/inosync-bench); do not edit by hand.\n\n")
	fmt.Fprintf(&m, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&m, "- mode: %s; %d round(s) per daemon, alternating which daemon goes first; every cell is the median over rounds\n", mode, b.rounds)
	fmt.Fprintf(&m, "- trees: empty, %s (load, burst, restart) and %s (latency, memory, idle); fan-out 20, 2 small files per dir\n", b.mid.name, b.big.name)
	fmt.Fprintf(&m, "- the burst and load rows' tree: %s; every other tree on the disk (see Method)\n", b.burstFS)
	fmt.Fprintf(&m, "- run time: %s (building the trees included, removing them not)\n", elapsed.Round(time.Second))
	fmt.Fprintf(&m, "- load average (1/5/15 min) at the start of each round, then at the end: %s; the machine is shared, so a busy round shows in the per-round values below\n", strings.Join(b.loads, "; "))
	m.WriteString("- command: `make bench` (full: 3 rounds, 20k/50k-dir trees, 10k-file bursts, load rows with 0, 1 and 2 busy cores); `BENCH_QUICK=1 make bench` (1 round, 4k/10k-dir trees, 2k-file bursts, load rows with 0 and 1 busy core; prints the table, writes no report unless `BENCH_OUT=FILE`)\n\n")
	m.WriteString("## Machine\n\n")
	for _, s := range machine() {
		m.WriteString("- " + s + "\n")
	}
	for _, s := range b.versions() {
		m.WriteString("- " + s + "\n")
	}
	m.WriteString("\n## Results\n\n")
	m.WriteString("| figure | inosync | lsyncd | ours/lsyncd | target | status | lsyncd in ANCHORS.md |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&m, "| %s | %s | %s | %s | %s | %s | %s |\n", strings.TrimSpace(r.figure), r.ours, r.theirs, r.ratio, r.target, r.status, r.anchor)
	}
	fmt.Fprintf(&m, "\nTargets met: %d, missed: %d. \"timeout\" means the daemon did not get there before the harness's deadline; \"error\" that the measurement failed (see notes).\n", met, missed)
	if len(alt) > 0 {
		fmt.Fprintf(&m, "\n### inosync-alt against inosync\n\n`-inosync-alt %s`, run like inosync in the same rounds; no targets.\n\n| figure | inosync | inosync-alt | alt/inosync |\n|---|---|---|---|\n", b.inosyncAltBin)
		for _, r := range alt {
			fmt.Fprintf(&m, "| %s | %s | %s | %s |\n", strings.TrimSpace(r.figure), r.ours, r.theirs, r.ratio)
		}
	}
	if len(tricks) > 0 {
		m.WriteString("\n### What the timing tricks buy\n\nThe load rows run, in the same rounds, also with one of inosync's timing tricks turned off at a time, shown against inosync with all of them; no targets. A ratio above 1 is what the trick buys.\n")
		for _, k := range trickKinds {
			if len(tricks[k]) == 0 {
				continue
			}
			fmt.Fprintf(&m, "\n%s: %s.\n\n| figure | inosync | %s | it/inosync |\n|---|---|---|---|\n", k, trickWords[k], k)
			for _, r := range tricks[k] {
				fmt.Fprintf(&m, "| %s | %s | %s | %s |\n", strings.TrimSpace(r.figure), r.ours, r.theirs, r.ratio)
			}
		}
	}
	m.WriteString(methodText(b))
	if f, err := os.ReadFile(findingsFile); err == nil {
		m.WriteString("\n")
		m.Write(f)
	}
	if len(alt) > 0 {
		m.WriteString("\n## Per-round values\n\n| figure | inosync | lsyncd | inosync-alt |\n|---|---|---|---|\n")
	} else {
		m.WriteString("\n## Per-round values\n\n| figure | inosync | lsyncd |\n|---|---|---|\n")
	}
	for _, r := range b.rows() {
		fmt.Fprintf(&m, "| %s | %s | %s |", strings.TrimSpace(r.label), joinVals(b.results[r.key][kindInosync], r.unit), joinVals(b.results[r.key][kindLsyncd], r.unit))
		if len(alt) > 0 {
			fmt.Fprintf(&m, " %s |", joinVals(b.results[r.key][kindAlt], r.unit))
		}
		m.WriteString("\n")
	}
	if len(b.notes) > 0 {
		m.WriteString("\n## Notes from this run\n\n")
		for _, n := range b.notes {
			m.WriteString("- " + strings.ReplaceAll(n, "\n", " ") + "\n")
		}
	}
	return reportOut{text: t.String(), markdown: m.String()}
}

// textTable lays out rows (the first is the header) in aligned columns,
// the first ncols fields of each.
func textTable(all []tableRow, ncols int) string {
	fields := func(r tableRow) []string {
		return []string{r.figure, r.ours, r.theirs, r.ratio, r.target, r.status, r.anchor}[:ncols]
	}
	w := make([]int, ncols)
	for _, r := range all {
		for i, c := range fields(r) {
			if n := len([]rune(c)); n > w[i] {
				w[i] = n
			}
		}
	}
	var t strings.Builder
	for i, r := range all {
		for j, c := range fields(r) {
			pad := w[j] - len([]rune(c))
			if j == 0 {
				t.WriteString(c + strings.Repeat(" ", pad))
			} else {
				t.WriteString("  " + strings.Repeat(" ", pad) + c)
			}
		}
		t.WriteString("\n")
		if i == 0 {
			t.WriteString(strings.Repeat("-", sum(w)+2*(ncols-1)) + "\n")
		}
	}
	return t.String()
}

// fmtRatio shows two decimals, three below 0.2 (so 0.104 against a 0.1
// target does not read as 0.10).
func fmtRatio(r float64) string {
	if r < 0.2 {
		return fmt.Sprintf("%.3f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

func joinVals(vs []float64, unit string) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmtVal(v, unit)
	}
	return strings.Join(s, ", ")
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// findingsFile is the hand-written part of docs/benchmarks.md: where the
// time goes and what was learned, with the commands behind each figure.
const findingsFile = "bench/findings.md"

func methodText(b *bench) string {
	return fmt.Sprintf(`
## Method

Both daemons run on the same trees, one at a time, with a local target and
delay 0, each in its own process group that is killed (SIGKILL) after the
measurement. Before every launch the target is made identical to the source
with `+"`rsync -a --delete`"+`, and then sync(2) writes back what is dirty
(the trees just built, the last burst), so that no daemon pays for what
came before it. The page cache is warm.

- **Configs.** inosync: `+"`wpaths = [\"SRC/\"]; rpaths = [\"DST/\"]; rnodes = [\"\"]; edelay = 0`"+`, run as
  `+"`bin/inosync -c CFG --log-format=json`"+` with stderr to a file. lsyncd:
  `+"`settings{ nodaemon = true, logfile = LOG, insist = true }`"+` and
  `+"`sync{ default.rsync, source = \"SRC\", target = \"DST\", delay = 0 }`"+`.
- **Ready.** The harness polls the daemon's log every 2 ms (with a deadline).
  lsyncd is ready when it logs "Startup of SRC -> DST finished."; inosync
  when it has logged "watching" and then its initial sync (a "rsync" line
  with full=true and exit 0 or 24). Both mean: every watch exists and the
  startup rsync has ended.
- **Trees.** N directories with fan-out 20 (d0…d19 in the root, directory
  k holds d(20k+20)…d(20k+39)) and 2 small files in each, as ANCHORS'
  `+"`mktree.py N 2`"+`; the target made identical with `+"`rsync -a`"+`.
  Trees: empty, %s, %s, under one temp dir in /tmp, removed at the end.
  The burst rows with a target use a second copy of the %s tree on a
  tmpfs (%s; `+"`-burst-fs disk`"+` puts them on the disk): on a disk the
  writer itself can be the bottleneck, and then both daemons converge
  when the writer is done and the ratio says nothing about them. On the
  machine this was written on (ext4 with online discard on a throttled
  virtual disk) a python loop making the burst's files with no daemon
  running took 3.7-7.7 s. The burst into new dirs on the disk is still
  measured, without a target ("disk" rows, after the two tmpfs bursts).
- **Latency** (p50, p99). %d writes of one file, scheduled %v apart (write i
  at start + i·%v, or right after write i-1 landed if that took longer).
  Each write is open(O_TRUNC)+write+close of 64+i bytes, so every write has
  a new size (rsync's quick check cannot skip it; see ANCHORS G1). Latency:
  from just before the open until the target file holds the same bytes,
  read back every 250 µs (a nanosleep(2), 0.32 ms apart with the kernel's
  timer slack; Go's time.Sleep would round each wait up to 1 ms, as it did
  before 2026-11-26). Percentiles are nearest-rank over the %d writes
  of a run; the table gives the median over rounds of the per-run
  percentile. A write that has not landed after 5 s is a timeout (after 3
  in a row the run's remaining writes count as timeouts). Empty tree: the
  file is in the root. Big tree: `+"`d0/d20/d420/lat.txt`"+`, three levels down,
  measured after the idle window below.
- **Burst** (%s tree, ready and quiet first). %d files of 95 bytes in %d
  directories spread over the tree (directory j·%d, j < %d): "new" makes a
  fresh directory `+"`bn<j>`"+` in each and writes 20 files into it, "existing"
  writes the 20 files straight into the existing directory. One writer,
  as fast as it can. *Converged*: from just before the first write until
  every file exists on the target (lstat of the still-missing files every
  2 ms after the writer is done). *After the last write*: converged minus
  the writer's own time. *rsync runs*: rsync runs logged after the daemon
  was ready, counted once it is quiet again (no child process and no log
  growth for 1 s): lsyncd's "Calling rsync" lines (the startup rsync is
  not counted), inosync's "rsync" lines. *Daemon CPU*: utime+stime of the
  daemon process from /proc/PID/stat (all its threads; rsync children not
  counted), read just before the first write and again once quiet.
  *Context switches*: voluntary and involuntary, summed over the daemon's
  threads (/proc/PID/task/TID/status), read at the same two moments.
  *VmRSS* and *VmHWM* from /proc/PID/status at the second moment: what
  the daemon holds after the burst, and the most it held since launch.
  Deadline: %v.
- **Restart** (%s tree, already in sync). t=0 just before fork/exec of the
  daemon. The harness polls /proc/PID/task/*/children every 0.5 ms; the
  first child is the startup rsync (*startup rsync began*). 50 ms after
  that, it writes a new file in the tree's root (which the startup rsync
  has already listed, so only an event can carry it) and times launch →
  the target holds that file's bytes. *Ready* is the log line above. The
  same definition for both daemons.
- **Memory** (%s tree). VmRSS and VmHWM from /proc/PID/status, after
  ready, quiet for 0.5 s, and 1 s more. RssAnon (same file, same moment)
  is the part of VmRSS that is the process's own: heap and stacks,
  without the pages of its binary and libraries, which the page cache
  shares and can drop (inosync's static binary is 17 MB; lsyncd's is
  0.16 MB, and liblua 0.25 MB).
- **Idle** (%s tree, right after the memory reading, nothing changing).
  Over %v: utime+stime from /proc/PID/stat (10 ms ticks), time on a CPU
  summed over every thread's /proc/PID/task/TID/schedstat (ns), and
  voluntary context switches summed over every thread's
  /proc/PID/task/TID/status (/proc/PID/status alone shows only the main
  thread, which for a Go program hides the work).
%s- **Targets.** ours/lsyncd of the medians: latency p50 ≤ 0.8, p99 ≤ 0.5;
  new-file latency with 1 and with 2 cores busy p50 ≤ 0.5 and p99 ≤ 0.5;
  burst convergence ≤ 0.4 into new dirs and ≤ 0.5 into existing ones,
  burst daemon CPU ≤ 0.1, restart ≤ 0.7, RSS ≤ 0.9 (VmRSS and VmHWM each),
  idle CPU exactly 0; and inosync's own latency p50 in the big tree within
  1.5× of its p50 in the empty tree.
`, b.mid.name, b.big.name, b.mid.name, b.burstFS, b.writes, b.gap, b.gap, b.writes,
		b.mid.name, b.burstDirs*b.burstFiles, b.burstDirs, max(b.mid.dirs/b.burstDirs, 1), b.burstDirs,
		convergeTimeout, b.mid.name, b.big.name, b.big.name, b.idle, loadText(b))
}

// loadText is the method of the load rows.
func loadText(b *bench) string {
	levels := make([]string, len(b.loadBusy))
	for i, n := range b.loadBusy {
		levels[i] = fmt.Sprint(n)
	}
	autogroup := "unknown"
	if data, err := os.ReadFile("/proc/sys/kernel/sched_autogroup_enabled"); err == nil {
		autogroup = map[string]string{"0": "off", "1": "on"}[strings.TrimSpace(string(data))]
	}
	return fmt.Sprintf(`- **Load** (%s tree, on the burst rows' file system: %s, so that a
  disk stall, which decides a p99 of 60 writes, does not; ready and quiet
  first; %s busy cores, each level
  with every daemon before the next; quick mode runs 0 and 1). A busy
  process is the harness binary re-executed (`+"`inosync-bench -busy-loop PID`"+`):
  one thread in a CPU-bound loop, at the harness's priority (nice %s,
  the daemons' too), not pinned to a CPU, in a process group of its own
  but in the harness's session, so in the same autogroup as the daemon,
  its rsyncs and the harness (autogroup %s here): task against task.
  N busy processes start once the daemon is quiet; the writes begin
  100 ms after every one of them spins, and they are killed (SIGKILL)
  once every file has landed or timed out; they die with the
  harness too (PR_SET_PDEATHSIG, and each exits when its parent is
  gone). The writes: %d new files, a new name each
  (`+"`d0/d20/d420/new_b<N>_<i>.txt`"+`, an existing directory three
  levels down; removed before the launch), written %v apart whatever the
  daemon does: the writer never waits for a file to land before the next
  one is due, as an upload directory's writers do not wait for the
  mirror (a writer that waited would give the slower daemon a lighter
  load, its files further apart: coordinated omission; `+"`-load-waits`"+`
  brings that method back for comparison). Each file's latency is from
  just before its create (open+write+close of 64+i bytes) until the
  target holds the same bytes, read back every 250 µs by a poller of
  its own. p99 is nearest-rank over the %d files, so with 60 it is the
  slowest one. *rsync runs*: as for the latency rows. *CPU the busy
  processes got*: their utime+stime from when all of them spun (100 ms
  before the first write) until every file has landed or timed out, as a share of N
  CPUs (what they did not get went to the daemon, rsync, the harness
  and whatever else runs on the machine). The 0 row is the same writes
  with no busy process, for reference; on a 2-CPU machine 2 busy cores
  leave none idle. Each write's start and latency go to latency.tsv
  beside the daemon's log (`+"`-keep`"+` keeps them), to match outliers
  with the daemon's log. In a full run (or with `+"`-tricks`"+`), each
  level also runs inosync with one timing trick turned off at a time
  (the same binary: `+"`warm_rsync = False`"+` in its config, or
  `+"`GOMAXPROCS`"+` set to the number of CPUs in its environment), in
  the same rounds, after or before the others as the round's order says.
`, b.mid.name, b.burstFS, strings.Join(levels, ", "), niceness(), autogroup, b.loadWrites, b.loadGap, b.loadWrites)
}

// niceness is the harness's nice value, from /proc/self/stat.
func niceness() string {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return "unknown"
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return "unknown"
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 17 { // state is field 3 of stat(5), nice field 19
		return "unknown"
	}
	return f[16]
}

// The scale rows' section of docs/benchmarks.md lies between these
// markers: make bench-scale writes it, make bench keeps it.
const (
	scaleBegin = "<!-- make bench-scale writes from here to its end marker -->\n"
	scaleEnd   = "<!-- end of make bench-scale's section -->\n"
)

// scaleSection returns the scale rows' section of doc, without its
// markers ("" when doc has none).
func scaleSection(doc string) string {
	_, rest, ok := strings.Cut(doc, scaleBegin)
	if !ok {
		return ""
	}
	sec, _, ok := strings.Cut(rest, scaleEnd)
	if !ok {
		return ""
	}
	return sec
}

// withScaleSection returns doc with sec as its scale rows' section: in
// place of the old one, or before its "## Method" heading (at its end when
// it has none). An empty sec leaves doc as it is.
func withScaleSection(doc, sec string) string {
	if sec == "" {
		return doc
	}
	marked := scaleBegin + sec + scaleEnd
	if before, rest, ok := strings.Cut(doc, scaleBegin); ok {
		if _, after, ok := strings.Cut(rest, scaleEnd); ok {
			return before + marked + after
		}
	}
	if i := strings.Index(doc, "\n## Method\n"); i >= 0 {
		return doc[:i+1] + marked + "\n" + doc[i+1:]
	}
	return doc + "\n" + marked
}
