package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The scale rows (-scale, `make bench-scale`): trees of hundreds of
// thousands of directories on a tmpfs, one empty file in each (an empty
// file takes no page of a tmpfs), the target already in sync. Each daemon
// in turn is launched on the tree and measured from its launch. Then the
// rename row (rename.go).

// scaleMain runs the scale rows and writes their report: into
// docs/benchmarks.md, between its scale markers, for a run of the default
// sizes and daemons, or whole to out. It returns the exit status.
func scaleMain(b *bench, dirs, daemons, out, inosyncBin string, rename, keep bool) int {
	var sizes []int
	for _, f := range strings.Split(dirs, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-scale-dirs: %q is not a number of directories", f))
		}
		sizes = append(sizes, n)
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "daemons" })
	if !explicit {
		daemons = strings.Join([]string{kindFan, kindInosync, kindLsyncd}, ",")
	}
	kinds, err := daemonList(daemons, false)
	if err != nil {
		fatal(err)
	}
	splice := out == "" && !explicit && dirs == "250000,1000000" && rename
	if splice {
		out = "docs/benchmarks.md"
	}
	if os.Geteuid() != 0 {
		fatal(errors.New("must run as root (fanotify, and the inotify limit raised for the run)"))
	}
	if b.inosyncBin, err = filepath.Abs(inosyncBin); err != nil {
		fatal(err)
	}
	if err := b.ensureTools(); err != nil {
		fatal(err)
	}
	restore := func() {}
	if len(sizes) > 0 {
		restore = raiseInotifyLimits(slices.Max(sizes), b)
	}
	if b.tmp, err = os.MkdirTemp("", "inosync-bench-"); err != nil {
		fatal(err)
	}
	defer func() {
		if keep {
			b.logf("kept %s (the daemons' logs)", b.tmp)
			return
		}
		os.RemoveAll(b.tmp)
	}()
	defer restore()
	defer killAll()
	b.logf("inosync-bench -scale: trees of %s; daemons %s; temp %s", joinInts(sizes), strings.Join(kinds, ", "), b.tmp)
	rep, err := b.scale(sizes, kinds, rename)
	if err != nil {
		b.logf("scale: %v", err)
		return 1
	}
	fmt.Print(rep)
	if splice {
		doc, err := os.ReadFile(out)
		if err != nil {
			b.logf("cannot read %s to put the scale rows in: %v", out, err)
			return 1
		}
		rep = withScaleSection(string(doc), rep)
	}
	if out != "" {
		if err := os.WriteFile(out, []byte(rep), 0o644); err != nil {
			b.logf("cannot write %s: %v", out, err)
			return 1
		}
		b.logf("wrote %s", out)
	}
	b.logf("done in %s", time.Since(b.start).Round(time.Second))
	return 0
}

// scaleTmpfs mounts a tmpfs for the scale trees under dir, without a
// bound on its inodes: a tree of a million directories and its copy take
// four million, more than /dev/shm allows by default.
func scaleTmpfs(dir string) (mnt, where string, remove func(), err error) {
	mnt = filepath.Join(dir, "scale")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return "", "", nil, err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=50%,nr_inodes=0,mode=0755", "inosync-scale", mnt).CombinedOutput(); err != nil {
		return "", "", nil, fmt.Errorf("mount -t tmpfs %s: %v: %s", mnt, err, strings.TrimSpace(string(out)))
	}
	return mnt, "tmpfs mounted by the harness (nr_inodes=0)", func() {
		_ = exec.Command("umount", mnt).Run()
		os.Remove(mnt)
	}, nil
}

// scaleResult is what one daemon showed on one tree.
type scaleResult struct {
	live, ready     float64 // seconds from launch; -1 when not reached
	watching        float64 // seconds from launch to inosync's "watching"; -1 for lsyncd
	rssMiB, hwmMiB  float64
	cpu             float64 // the daemon's utime+stime at ready, in seconds
	slabMiB, unrMiB float64 // growth of Slab and SUnreclaim from launch to ready
	err             string
}

// scaleLiveWindow is how soon after its write a probe must be on the
// target for the daemon to count as live.
const scaleLiveWindow = 100 * time.Millisecond

// scaleReadyTimeout bounds a daemon's start on the biggest tree.
const scaleReadyTimeout = 20 * time.Minute

// scale runs the scale rows for each size with each daemon in kinds, and
// the rename row when rename is set, and returns the report.
func (b *bench) scale(sizes []int, kinds []string, rename bool) (string, error) {
	base, where, remove, err := scaleTmpfs(b.tmp)
	if err != nil {
		return "", fmt.Errorf("the scale trees need a tmpfs: %w", err)
	}
	defer remove()
	results := map[int]map[string]scaleResult{}
	for _, n := range sizes {
		t := &tree{name: fmt.Sprintf("%d-dir", n), dirs: n, src: filepath.Join(base, "src"), dst: filepath.Join(base, "dst")}
		t0 := time.Now()
		if err := mktreeFiles(t.src, n, 1, false); err != nil {
			return "", err
		}
		if err := b.resync(t); err != nil {
			return "", err
		}
		b.logf("built the %s tree and its copy on the %s in %.1fs", t.name, where, time.Since(t0).Seconds())
		results[n] = map[string]scaleResult{}
		for _, k := range kinds {
			r := b.scaleOne(k, t)
			results[n][k] = r
			b.logf("  %s %s: live %s, ready %s, RSS %.1f MiB, CPU %.1f s, slab +%.1f MiB (unreclaimable +%.1f) %s",
				k, t.name, fmtSec(r.live), fmtSec(r.ready), r.rssMiB, r.cpu, r.slabMiB, r.unrMiB, r.err)
		}
		if err := os.RemoveAll(t.src); err != nil {
			return "", err
		}
		if err := os.RemoveAll(t.dst); err != nil {
			return "", err
		}
	}
	var renamed map[string]renameResult
	renameErr := ""
	if rename {
		// A rename row that cannot run leaves the size rows reported.
		if renamed, err = b.renameRows(base, kinds); err != nil {
			renameErr = err.Error()
			b.logf("the rename row: %v", err)
		}
	}
	return scaleReport(sizes, kinds, results, renamed, renameErr, where, b.versions(), time.Since(b.start)), nil
}

// scaleOne launches kind on t, probes until a change is live and the
// initial sync is done, reads its figures and stops it.
func (b *bench) scaleOne(kind string, t *tree) scaleResult {
	r := scaleResult{live: -1, ready: -1, watching: -1}
	runtime.GC()
	slab0, unr0 := meminfoKB("Slab"), meminfoKB("SUnreclaim")
	d, err := b.launch(kind, t.src, t.dst)
	if err != nil {
		r.err = err.Error()
		return r
	}
	var probes []string
	defer func() {
		d.stop()
		for _, root := range []string{t.src, t.dst} {
			for _, p := range probes {
				os.Remove(filepath.Join(root, p))
			}
		}
	}()
	readyc := make(chan readyResult, 1)
	go func() {
		dur, err := d.waitReady(scaleReadyTimeout)
		readyc <- readyResult{dur, err}
	}()
	var rr *readyResult
	r.live, probes, rr = b.probeLive(d, t, readyc)
	if rr == nil {
		x := <-readyc
		rr = &x
	}
	if rr.err != nil {
		r.err = rr.err.Error()
		return r
	}
	r.ready = rr.dur.Seconds()
	if isInosync(kind) {
		r.watching = d.watching.Seconds()
	}
	if cpu, err := procCPU(d.pid); err == nil {
		r.cpu = cpu
	}
	if kb, err := procStatusKB(d.pid, "VmRSS"); err == nil {
		r.rssMiB = float64(kb) / 1024
	}
	if kb, err := procStatusKB(d.pid, "VmHWM"); err == nil {
		r.hwmMiB = float64(kb) / 1024
	}
	r.slabMiB = float64(meminfoKB("Slab")-slab0) / 1024
	r.unrMiB = float64(meminfoKB("SUnreclaim")-unr0) / 1024
	return r
}

// readyResult is waitReady's answer.
type readyResult struct {
	dur time.Duration
	err error
}

// probeLive writes a new file in a directory deep in t, one after another
// from the launch on, and returns the seconds from launch until the first
// that was on the target within scaleLiveWindow of its write (-1 if none
// was, 30 s after the daemon was ready), the probes it wrote (relative
// paths), and waitReady's answer if it came meanwhile.
func (b *bench) probeLive(d *daemon, t *tree, readyc <-chan readyResult) (float64, []string, *readyResult) {
	var probes []string
	var rr *readyResult
	var giveUp <-chan time.Time
	for k := 0; ; k++ {
		i := t.dirs - 1 - (k*7919)%t.dirs // the deepest directories first, spread
		rel := filepath.Join(dirRel(i), fmt.Sprintf("probe%d", k))
		body := []byte(fmt.Sprintf("probe %d\n", k))
		w := time.Now()
		if err := os.WriteFile(filepath.Join(t.src, rel), body, 0o644); err != nil {
			return -1, probes, rr
		}
		probes = append(probes, rel)
		for time.Since(w) < scaleLiveWindow {
			if got, err := os.ReadFile(filepath.Join(t.dst, rel)); err == nil && bytes.Equal(got, body) {
				return time.Since(d.launched).Seconds(), probes, rr
			}
			pollSleep(time.Millisecond)
		}
		select {
		case x := <-readyc:
			rr = &x
			if x.err != nil {
				return -1, probes, rr
			}
			giveUp = time.After(30 * time.Second)
		case <-giveUp:
			return -1, probes, rr
		default:
		}
		if !d.alive() {
			return -1, probes, rr
		}
		time.Sleep(scaleLiveWindow)
	}
}

// meminfoKB returns a field of /proc/meminfo in kB (0 when missing).
func meminfoKB(key string) int64 {
	n, _ := fileKB("/proc/meminfo", key)
	return n
}

func fmtSec(s float64) string {
	if s < 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f s", s)
}

// scaleReport is the markdown report of the scale rows, with the issue's
// targets for the fanotify watcher at the biggest size.
func scaleReport(sizes []int, kinds []string, res map[int]map[string]scaleResult, renamed map[string]renameResult, renameErr, where string, versions []string, took time.Duration) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "## At scale: inosync (fanotify and inotify) against lsyncd\n\n")
	fmt.Fprintf(&sb, "Written by `make bench-scale` (bin/inosync-bench -scale), which replaces this section alone; do not edit it by hand.\n\n")
	fmt.Fprintf(&sb, "- date: %s\n- trees: %s, fan-out 20, one empty file per directory, on a %s; the target (a copy on the same tmpfs) in sync before each launch\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), joinInts(sizes), where)
	fmt.Fprintf(&sb, "- one launch per daemon and size, in the order of the columns; run time %s (building the trees included)\n", took.Round(time.Second))
	for _, m := range append(machine(), versions...) {
		fmt.Fprintf(&sb, "- %s\n", m)
	}
	sb.WriteString("\n")
	for _, n := range sizes {
		r := res[n]
		writeTableHead(&sb, fmt.Sprintf("### %d directories", n), kinds)
		big := n == sizes[len(sizes)-1] && n >= 1000000
		fan, ino, lsy := r[kindFan], r[kindInosync], r[kindLsyncd]
		row := func(name string, val func(scaleResult) string, target string, met bool) {
			fmt.Fprintf(&sb, "| %s |", name)
			for _, k := range kinds {
				fmt.Fprintf(&sb, " %s |", val(r[k]))
			}
			status := ""
			if target != "" {
				status = "missed"
				if met {
					status = "met"
				}
			}
			fmt.Fprintf(&sb, " %s | %s |\n", target, status)
		}
		t := func(target string) string {
			if big {
				return target
			}
			return ""
		}
		row("launch → a change lands within 100 ms of its write", func(s scaleResult) string { return fmtSec(s.live) },
			t("≤ 1 s, before the initial sync is done"), fan.live >= 0 && fan.live <= 1 && (fan.ready < 0 || fan.live < fan.ready))
		row("launch → watching (inosync's log line)", func(s scaleResult) string { return fmtSec(s.watching) }, "", false)
		row("launch → initial sync done", func(s scaleResult) string { return fmtSec(s.ready) }, "", false)
		row("VmRSS after the initial sync", func(s scaleResult) string { return fmt.Sprintf("%.1f MiB", s.rssMiB) },
			t("≤ 0.25× lsyncd"), lsy.rssMiB > 0 && fan.rssMiB <= 0.25*lsy.rssMiB)
		row("VmHWM", func(s scaleResult) string { return fmt.Sprintf("%.1f MiB", s.hwmMiB) }, "", false)
		row("daemon CPU (utime+stime) until ready", func(s scaleResult) string { return fmt.Sprintf("%.1f s", s.cpu) }, "", false)
		row("kernel Slab growth, launch → ready", func(s scaleResult) string { return fmt.Sprintf("%+.1f MiB", s.slabMiB) },
			t("≤ 0.1× inotify's"), ino.slabMiB > 0 && fan.slabMiB <= 0.1*ino.slabMiB)
		row("kernel SUnreclaim growth", func(s scaleResult) string { return fmt.Sprintf("%+.1f MiB", s.unrMiB) }, "", false)
		for _, k := range kinds {
			if e := r[k].err; e != "" {
				fmt.Fprintf(&sb, "\n%s: %s\n", k, firstLineOf(e))
			}
		}
		sb.WriteString("\n")
	}
	if renamed != nil {
		sb.WriteString(renameReport(kinds, renamed))
	}
	if renameErr != "" {
		fmt.Fprintf(&sb, "### The rename row\n\nNot run: %s\n\n", firstLineOf(renameErr))
	}
	sb.WriteString(`### Method (scale)

Each daemon is launched (a local target, delay 0) on the tree, whose
target is already identical, and killed once measured. From the launch on,
the harness writes a new file in a directory deep in the tree, one after
another (the deepest directories first, spread over the tree), and polls
the target for it every millisecond for 100 ms: *a change lands* is the
time from the launch until the first file that was on the target within
100 ms of its write. *Initial sync done* is the daemon's own log line
(inosync: its full rsync after "watching"; lsyncd: "Startup of … finished").
VmRSS, VmHWM and the daemon's CPU (its threads, not its rsyncs) are read at
that moment; Slab and SUnreclaim (/proc/meminfo) before the launch and then.
inotify's limit (fs.inotify.max_user_watches) is raised for the run and put
back after it; fanotify needs none.

The rename row: a directory of ` + fmt.Sprintf("%d files of %d MiB", renameFiles, renameFileMiB) + ` of random bytes
on the same tmpfs, its target on a node over ssh: a real sshd on 127.0.0.1
started by the harness, reached through a relay in the harness that counts
every byte between ssh and sshd. inosync runs with
` + "`rnodes = [\"root@127.0.0.1:DST\"]; rpaths = [\"/\"]; extra = \"--stats\"`" + `, lsyncd with
` + "`default.rsyncssh`" + ` (which moves and deletes with a command run through ssh);
both find ` + "`ssh`" + ` first in their PATH, a wrapper with the harness's key and
port. Once the daemon is ready and quiet, the directory is renamed; the
row counts the bytes from the rename until the target holds the new name
whole and not the old one, and the daemon is quiet again (no child
process using CPU and no log growth for 1 s).
`)
	return sb.String()
}

// writeTableHead writes heading and the head of a table with a column per
// daemon in kinds, then the fanotify watcher's target and its status.
func writeTableHead(sb *strings.Builder, heading string, kinds []string) {
	fmt.Fprintf(sb, "%s\n\n| figure |", heading)
	for _, k := range kinds {
		fmt.Fprintf(sb, " %s |", k)
	}
	sb.WriteString(" target (fanotify) | status |\n|---|")
	for range kinds {
		sb.WriteString("---|")
	}
	sb.WriteString("---|---|\n")
}

func joinInts(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, " and ") + " directories"
}

func firstLineOf(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
