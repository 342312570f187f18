// Command inosync-bench compares inosync with lsyncd on this machine: the
// same trees, the same local targets, delay 0, in alternating rounds, with
// the method of the project's lsyncd anchors. `make bench` runs it;
// BENCH_QUICK=1 runs one round on smaller trees. It needs root (lsyncd is
// installed with apt-get when missing) and writes docs/benchmarks.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type bench struct {
	quick      bool
	rounds     int
	writes     int
	gap        time.Duration
	idle       time.Duration
	burstDirs  int
	burstFiles int
	burstGap   time.Duration // busy wait after each burst file (a slow writer)
	// The load rows: for each number of busy processes in loadBusy,
	// loadWrites new files loadGap apart.
	loadBusy   []int
	loadWrites int
	loadGap    time.Duration
	// loadWaits: the load rows' writer waits for each file to land before
	// the next one is due (-load-waits, to compare the two methods).
	loadWaits bool

	inosyncBin    string
	inosyncAltBin string // -inosync-alt: a second inosync, kind kindAlt
	tricks        bool   // the load rows also run with each timing trick off (trickKinds)
	lsyncdBin     string
	rsyncBin      string
	tmp           string
	seq           int

	empty, mid, big *tree
	// burst is the tree of the burst rows: a copy of mid on a tmpfs
	// (-burst-fs tmpfs), or mid itself (-burst-fs disk).
	burst   *tree
	burstFS string // where burst lives, for the report

	start   time.Time
	mu      sync.Mutex
	results map[string]map[string][]float64
	notes   []string
	loads   []string // load average at each round's start, and at the end
}

// loadavg is the 1, 5 and 15 minute load average: the machine is shared,
// and a busy round shows here.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func (b *bench) record(key, kind string, v float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.results[key] == nil {
		b.results[key] = map[string][]float64{}
	}
	b.results[key][kind] = append(b.results[key][kind], v)
}

func (b *bench) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.mu.Lock()
	b.notes = append(b.notes, msg)
	b.mu.Unlock()
	b.logf("  NOTE: %s", msg)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

func envBool(name string) bool {
	v := strings.TrimSpace(os.Getenv(name))
	return v != "" && v != "0" && !strings.EqualFold(v, "false") && !strings.EqualFold(v, "no")
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == busyArg {
		busyMain(os.Args[2]) // a busy process of the load rows; never returns
	}
	b := &bench{start: time.Now(), results: map[string]map[string][]float64{}}
	quick := flag.Bool("quick", envBool("BENCH_QUICK"), "one round on smaller trees (also BENCH_QUICK=1)")
	rounds := flag.Int("rounds", 0, "rounds per daemon (default 3, quick 1; also BENCH_ROUNDS)")
	inosyncBin := flag.String("inosync", "bin/inosync", "the inosync binary")
	altBin := flag.String("inosync-alt", "", "a second inosync binary, run as daemon \"inosync-alt\" beside the others and shown in a table of its own against inosync (no targets); writes no report unless -out is set")
	out := flag.String("out", "", "markdown report (default docs/benchmarks.md; quick mode writes none unless set; also BENCH_OUT)")
	keep := flag.Bool("keep", false, "keep the temp dir (trees and daemon logs)")
	only := flag.String("only", "", "comma-separated scenarios to run (empty, big, load, burst-new, burst-existing, burst-new-disk, restart); writes no report unless -out is set")
	daemons := flag.String("daemons", "inosync,lsyncd", "comma-separated daemons to run (inosync, lsyncd, inosync-alt; -inosync-alt adds the last); fewer writes no report unless -out is set")
	loadWaits := flag.Bool("load-waits", false, "the load rows' writer waits for each file to land before writing the next (a slower daemon then gets its files further apart), to compare with the default writer, which does not wait; writes no report unless -out is set")
	tricks := flag.Bool("tricks", false, "run the load rows also with each timing trick turned off (warm rsyncs; one processor and the intake pace), shown against inosync; on by default in a full make bench")
	burstGap := flag.Duration("burst-gap", 0, "make the burst writer slow: busy-wait this long after each file (writes no report unless -out is set)")
	burstFS := flag.String("burst-fs", "tmpfs", "where the burst rows' tree lives: tmpfs, or disk (beside the other trees; then no burst-new-disk rows)")
	scale := flag.Bool("scale", false, "run the scale rows instead (make bench-scale): trees of -scale-dirs directories and the rename row, daemons inosync-fanotify,inosync,lsyncd unless -daemons says otherwise; writes its section of docs/benchmarks.md")
	scaleDirs := flag.String("scale-dirs", "250000,1000000", "comma-separated tree sizes of the scale rows (empty: none)")
	scaleRename := flag.Bool("scale-rename", true, "with -scale: run the rename row (a 1,000 MiB directory renamed, to a node over ssh)")
	flag.Parse()
	if *scale {
		os.Exit(scaleMain(b, *scaleDirs, *daemons, *out, *inosyncBin, *scaleRename, *keep))
	}
	run, err := scenarioSet(*only)
	if err != nil {
		fatal(err)
	}
	kinds, err := daemonList(*daemons, *altBin != "")
	if err != nil {
		fatal(err)
	}
	if *burstFS != "tmpfs" && *burstFS != "disk" {
		fatal(fmt.Errorf("-burst-fs: %q is neither tmpfs nor disk", *burstFS))
	}
	partial := *only != "" || !slices.Contains(kinds, kindInosync) || !slices.Contains(kinds, kindLsyncd) || *burstGap > 0 || *altBin != "" || *loadWaits
	b.burstGap = *burstGap
	b.tricks = *tricks
	b.loadWaits = *loadWaits
	if !flagSet("tricks") {
		b.tricks = !partial && !*quick
	}
	b.tricks = b.tricks && slices.Contains(kinds, kindInosync)

	b.quick = *quick
	b.rounds = 3
	if b.quick {
		b.rounds = 1
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_ROUNDS")); err == nil && n > 0 {
		b.rounds = n
	}
	if *rounds > 0 {
		b.rounds = *rounds
	}
	outPath := *out
	if outPath == "" {
		outPath = os.Getenv("BENCH_OUT")
	}
	if outPath == "" && !b.quick && !partial {
		outPath = "docs/benchmarks.md"
	}
	b.writes, b.gap, b.idle = 100, 50*time.Millisecond, 10*time.Second
	bigDirs, midDirs := 50000, 20000
	b.burstDirs, b.burstFiles = 500, 20
	b.loadBusy, b.loadWrites, b.loadGap = []int{0, 1, 2}, 60, 30*time.Millisecond
	if b.quick {
		bigDirs, midDirs = 10000, 4000
		b.burstDirs = 100
		b.loadBusy = []int{0, 1} // 2 busy cores: full mode only
	}

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "inosync-bench: must run as root (it installs lsyncd when missing and may raise fs.inotify limits)")
		os.Exit(2)
	}
	if b.inosyncBin, err = filepath.Abs(*inosyncBin); err != nil {
		fatal(err)
	}
	if _, err := os.Stat(b.inosyncBin); err != nil {
		fatal(fmt.Errorf("%s: %w (run `make build` first)", b.inosyncBin, err))
	}
	if *altBin != "" {
		if b.inosyncAltBin, err = filepath.Abs(*altBin); err != nil {
			fatal(err)
		}
		if _, err := os.Stat(b.inosyncAltBin); err != nil {
			fatal(fmt.Errorf("-inosync-alt: %w", err))
		}
	}
	if err := b.ensureTools(); err != nil {
		fatal(err)
	}
	restoreSysctl := raiseInotifyLimits(bigDirs, b)

	b.tmp, err = os.MkdirTemp("", "inosync-bench-")
	if err != nil {
		fatal(err)
	}
	removeMem := func() {}
	cleanup := func() {
		killAll()
		restoreSysctl()
		b.logf("stopping daemons and removing the temp dir")
		if *keep {
			fmt.Fprintf(os.Stderr, "inosync-bench: kept %s\n", b.tmp)
			if b.burst != nil && b.burst != b.mid {
				fmt.Fprintf(os.Stderr, "inosync-bench: kept %s\n", filepath.Dir(b.burst.src))
			}
		} else {
			removeMem()
			os.RemoveAll(b.tmp)
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\ninosync-bench: %v: stopping daemons and cleaning up\n", s)
		cleanup()
		os.Exit(130)
	}()

	mode := "full"
	if b.quick {
		mode = "quick"
	}
	b.logf("inosync-bench (%s): %d round(s); trees of %d and %d dirs; burst %d×%d files; temp %s",
		mode, b.rounds, bigDirs, midDirs, b.burstDirs, b.burstFiles, b.tmp)
	b.empty = &tree{name: "empty", dirs: 0, src: filepath.Join(b.tmp, "empty", "src"), dst: filepath.Join(b.tmp, "empty", "dst")}
	b.mid = &tree{name: fmt.Sprintf("%d-dir", midDirs), dirs: midDirs, src: filepath.Join(b.tmp, "mid", "src"), dst: filepath.Join(b.tmp, "mid", "dst")}
	b.big = &tree{name: fmt.Sprintf("%d-dir", bigDirs), dirs: bigDirs, src: filepath.Join(b.tmp, "big", "src"), dst: filepath.Join(b.tmp, "big", "dst")}
	b.burst, b.burstFS = b.mid, "disk, beside the other trees"
	if *burstFS == "tmpfs" && (run["burst-new"] || run["burst-existing"] || run["load"]) {
		dir, where, remove, err := memTempDir(b.tmp)
		if err != nil {
			b.note("no tmpfs for the burst rows (%v): they run on the disk", err)
		} else {
			removeMem = remove
			b.burstFS = where
			b.burst = &tree{name: b.mid.name, dirs: midDirs, src: filepath.Join(dir, "mid", "src"), dst: filepath.Join(dir, "mid", "dst")}
		}
	}
	if b.burst == b.mid {
		delete(run, "burst-new-disk") // the burst-new rows are on the disk already
	}
	built := map[*tree]bool{}
	for _, t := range []*tree{b.empty, b.mid, b.big, b.burst} {
		if built[t] || !run.needs(t, b) {
			continue
		}
		err := b.build(t)
		built[t] = err == nil
		if err != nil && t == b.burst && t != b.mid { // the tmpfs: fall back to the disk
			b.note("cannot build the burst tree on the tmpfs (%v): the burst rows run on the disk", err)
			removeMem()
			removeMem = func() {}
			b.burst, b.burstFS = b.mid, "disk, beside the other trees (the tmpfs failed)"
			delete(run, "burst-new-disk")
			if err = nil; !built[b.mid] {
				err = b.build(b.mid)
				built[b.mid] = err == nil
			}
		}
		if err != nil {
			cleanup()
			fatal(err)
		}
	}

	for r := 0; r < b.rounds; r++ {
		order := slices.Clone(kinds)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		la := loadavg()
		b.loads = append(b.loads, la)
		b.logf("round %d/%d (%s first); load average %s", r+1, b.rounds, order[0], la)
		type step struct {
			name  string
			fn    func(kind string)
			kinds []string // nil: order
		}
		steps := []step{{"empty", b.scenarioEmpty, nil}, {"big", b.scenarioBig, nil}}
		loadKinds := order
		if b.tricks {
			loadKinds = append(slices.Clone(order), trickKinds...)
			if r%2 == 1 {
				slices.Reverse(loadKinds)
			}
		}
		for _, n := range b.loadBusy { // each busy level with every daemon before the next level
			steps = append(steps, step{"load", func(k string) { b.scenarioLoad(k, n) }, loadKinds})
		}
		steps = append(steps,
			step{"burst-new", func(k string) { b.scenarioBurst(k, "new", b.burst, "burst_new_") }, nil},
			step{"burst-existing", func(k string) { b.scenarioBurst(k, "existing", b.burst, "burst_existing_") }, nil},
			step{"burst-new-disk", func(k string) { b.scenarioBurst(k, "new", b.mid, "burst_newdisk_") }, nil},
			step{"restart", b.scenarioRestart, nil},
		)
		for _, sc := range steps {
			if !run[sc.name] {
				continue
			}
			kinds := sc.kinds
			if kinds == nil {
				kinds = order
			}
			for _, k := range kinds {
				sc.fn(k)
			}
		}
	}
	b.loads = append(b.loads, loadavg())
	elapsed := time.Since(b.start)
	rep := b.report(elapsed)
	fmt.Println()
	fmt.Print(rep.text)
	if outPath != "" {
		err := os.MkdirAll(filepath.Dir(outPath), 0o755)
		if err == nil {
			// The scale rows' section is make bench-scale's: kept as it was.
			var old []byte
			if old, err = os.ReadFile(outPath); errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			if err == nil {
				err = os.WriteFile(outPath, []byte(withScaleSection(rep.markdown, scaleSection(string(old)))), 0o644)
			}
		}
		if err != nil {
			b.logf("cannot write %s: %v", outPath, err)
		} else {
			b.logf("wrote %s", outPath)
		}
	} else {
		b.logf("quick mode: docs/benchmarks.md left alone (set BENCH_OUT=FILE to write a report)")
	}
	cleanup()
	b.logf("done in %s", time.Since(b.start).Round(time.Second))
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// settleDisk writes back what is dirty (sync(2)) before a measurement, so
// that no daemon pays for the writeback of what came before it: the trees
// just built (over 100,000 files), or the last burst. Without it the first
// latency round after building the trees saw p99 of 20-30 ms (writes
// stalled behind the journal) where the others saw 3 ms.
func (b *bench) settleDisk() {
	t0 := time.Now()
	syscall.Sync()
	if d := time.Since(t0); d > 100*time.Millisecond {
		b.logf("  sync(2) before the next measurement took %.2fs", d.Seconds())
	}
}

// scenarios is the set of scenarios to run, by name.
type scenarios map[string]bool

var scenarioNames = []string{"empty", "big", "load", "burst-new", "burst-existing", "burst-new-disk", "restart"}

// scenarioSet parses -only: empty means all of them.
func scenarioSet(only string) (scenarios, error) {
	s := scenarios{}
	if strings.TrimSpace(only) == "" {
		for _, n := range scenarioNames {
			s[n] = true
		}
		return s, nil
	}
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(scenarioNames, n) {
			return nil, fmt.Errorf("-only: unknown scenario %q (have %s)", n, strings.Join(scenarioNames, ", "))
		}
		s[n] = true
	}
	return s, nil
}

// needs says whether one of the scenarios uses tree t.
func (s scenarios) needs(t *tree, b *bench) bool {
	switch t {
	case b.empty:
		return s["empty"]
	case b.big:
		return s["big"]
	case b.mid:
		return s["restart"] || s["burst-new-disk"] || (b.burst == b.mid && (s["burst-new"] || s["burst-existing"] || s["load"]))
	}
	return s["burst-new"] || s["burst-existing"] || s["load"] // b.burst on a tmpfs
}

// daemonList parses -daemons; alt (-inosync-alt is set) adds kindAlt
// when the list does not name it, right after inosync (so that the two
// binaries run next to each other in every round).
func daemonList(list string, alt bool) ([]string, error) {
	var kinds []string
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		if k != kindInosync && k != kindLsyncd && k != kindAlt && k != kindFan {
			return nil, fmt.Errorf("-daemons: unknown daemon %q (have %s, %s, %s, %s)", k, kindInosync, kindLsyncd, kindAlt, kindFan)
		}
		if k == kindAlt && !alt {
			return nil, fmt.Errorf("-daemons: %s needs -inosync-alt", kindAlt)
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	if alt && !slices.Contains(kinds, kindAlt) {
		i := slices.Index(kinds, kindInosync) + 1 // 0 without inosync
		kinds = slices.Insert(kinds, i, kindAlt)
	}
	return kinds, nil
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "inosync-bench: %v\n", err)
	os.Exit(1)
}

// ensureTools finds rsync and lsyncd, installing them with apt-get when
// missing.
func (b *bench) ensureTools() error {
	var missing []string
	for _, p := range []string{"rsync", "lsyncd"} {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		b.logf("installing %s with apt-get", strings.Join(missing, " "))
		for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq"}, missing...)} {
			cmd := exec.Command("apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
			}
		}
	}
	var err error
	if b.rsyncBin, err = exec.LookPath("rsync"); err != nil {
		return err
	}
	if b.lsyncdBin, err = exec.LookPath("lsyncd"); err != nil {
		return err
	}
	return nil
}

// raiseInotifyLimits makes sure one daemon can watch the big tree with
// room to spare (root may), and returns a function that puts the old
// values back.
func raiseInotifyLimits(dirs int, b *bench) func() {
	type lim struct {
		path string
		min  int
	}
	var undo []func()
	for _, l := range []lim{
		{"/proc/sys/fs/inotify/max_user_watches", 2*dirs + 10000},
		{"/proc/sys/fs/inotify/max_user_instances", 128},
	} {
		data, err := os.ReadFile(l.path)
		if err != nil {
			continue
		}
		old := strings.TrimSpace(string(data))
		n, err := strconv.Atoi(old)
		if err != nil || n >= l.min {
			continue
		}
		if err := os.WriteFile(l.path, []byte(strconv.Itoa(l.min)), 0o644); err != nil {
			b.logf("cannot raise %s from %d: %v", l.path, n, err)
			continue
		}
		b.logf("raised %s from %d to %d for the run", l.path, n, l.min)
		p := l.path
		undo = append(undo, func() { os.WriteFile(p, []byte(old), 0o644) })
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for _, u := range undo {
				u()
			}
		})
	}
}
