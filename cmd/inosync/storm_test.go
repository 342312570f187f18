package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/inosync/inosync/internal/testutil"
)

// boundedRsync writes an rsync wrapper that records, under a lock, how many
// copies of it run at once and the most ever seen (DIR/max).
func boundedRsync(t *testing.T) (path, maxFile string) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1)")
	}
	dir := t.TempDir()
	path, maxFile = filepath.Join(dir, "rsync"), filepath.Join(dir, "max")
	must(t, os.WriteFile(filepath.Join(dir, "cur"), []byte("0\n"), 0o644))
	must(t, os.WriteFile(maxFile, []byte("0\n"), 0o644))
	script := fmt.Sprintf(`#!/bin/sh
d=%q
exec 9>>"$d/lock"
flock 9; n=$(($(cat "$d/cur")+1)); echo $n > "$d/cur"
[ $n -gt $(cat "$d/max") ] && echo $n > "$d/max"; flock -u 9
/usr/bin/rsync "$@"; rc=$?
flock 9; echo $(($(cat "$d/cur")-1)) > "$d/cur"; flock -u 9
exit $rc
`, dir)
	must(t, os.WriteFile(path, []byte(script), 0o755))
	return path, maxFile
}

// TestStorm floods one tree with about 100,000 events (20,000 files
// created, written three times and half of them renamed, across 200
// directories) while three nodes are synced with max_processes = 2: rsync
// never runs more than twice at once, no run carries more than max_pending
// paths (past that the tree is synced whole), the heap stays small, and
// every node ends equal to the source.
func TestStorm(t *testing.T) { storm(t, "") }

// The storm through fanotify: its renames within the tree are copied on
// the targets from their old names.
func TestStormFanotify(t *testing.T) {
	needFanotify(t)
	storm(t, fanotifyCfg)
}

// storm: extra is added to the config.
func storm(t *testing.T, extra string) {
	testutil.NeedRsync(t)
	if testing.Short() {
		t.Skip("a storm is not short")
	}
	rs, maxFile := boundedRsync(t)
	base := t.TempDir()
	src := filepath.Join(base, "src")
	dsts := []string{filepath.Join(base, "n1"), filepath.Join(base, "n2"), filepath.Join(base, "n3")}
	must(t, os.MkdirAll(src, 0o755))
	for _, d := range dsts {
		must(t, os.MkdirAll(d, 0o755))
	}
	cfg := fmt.Sprintf(`wpaths = [%q]
rpaths = ["/"]
rnodes = [%q, %q, %q]
edelay = 0.2
rsync = %q
max_processes = 2
max_pending = 2000
`, src+"/", dsts[0], dsts[1], dsts[2], rs) + extra
	// No pacing: the storm's writers run in this process, and a paced
	// intake holds a processor they need too (the daemon's writers are
	// other processes). Pacing is covered by the watch tests, the other
	// end-to-end tests and the real binary's (TestDaemonSIGTERM).
	d := startDaemonPaced(t, src, "", cfg, false, 0)
	for _, dst := range dsts {
		converges(t, src, dst, "the initial sync")
	}
	events := 0
	for i := range 200 {
		dir := filepath.Join(src, fmt.Sprintf("d%03d", i))
		must(t, os.Mkdir(dir, 0o755))
		events++
		for j := range 100 {
			p := filepath.Join(dir, fmt.Sprintf("f%03d", j))
			for k := range 3 {
				must(t, os.WriteFile(p, []byte(fmt.Sprint(i, j, k)), 0o644)) // create (1st) + write, or open-truncate + write
				events += 2
			}
			if j%2 == 0 {
				must(t, os.Rename(p, p+".moved")) // rename away + create
				events += 2
			}
		}
	}
	t.Logf("about %d events", events)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for _, dst := range dsts {
		converges(t, src, dst, "a node after the storm")
	}
	must(t, d.stop(t))
	b, err := os.ReadFile(maxFile)
	must(t, err)
	if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); n > 2 || n < 1 {
		t.Errorf("at most %d rsyncs ran at once, want 1 or 2 (max_processes = 2)", n)
	}
	for _, m := range regexp.MustCompile(`"files":(\d+)`).FindAllStringSubmatch(d.logs.String(), -1) {
		if n, _ := strconv.Atoi(m[1]); n > 2000 {
			t.Errorf("a run carried %d paths, more than max_pending = 2000", n)
		}
	}
	if ms.HeapInuse > 256<<20 {
		t.Errorf("heap in use during the storm: %d MB", ms.HeapInuse>>20)
	}
	t.Logf("heap in use during the storm: %.1f MB; runs: %d", float64(ms.HeapInuse)/(1<<20), strings.Count(d.logs.String(), `"message":"rsync"`))
}
