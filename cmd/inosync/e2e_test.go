package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/watch/inotifytest"

	"github.com/inosync/inosync/internal/testutil"
	"github.com/inosync/inosync/watch"
)

// The end-to-end tests run the daemon's pipeline in-process (serve: the
// same function the command runs, stopped by cancelling its context as
// SIGTERM does) on temp trees, with the real rsync and real inotify.

// daemonRun is a running pipeline.
type daemonRun struct {
	logs   *testutil.LockedBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when serve has returned
	err    error         // serve's result, once done is closed
}

// stop is SIGTERM: it returns serve's error (nil = everything synced).
func (d *daemonRun) stop(t *testing.T) error {
	t.Helper()
	d.cancel()
	select {
	case <-d.done:
		return d.err
	case <-time.After(2 * time.Minute):
		t.Fatal("the daemon did not stop")
	}
	return nil
}

// startDaemon writes the config (with @SRC@ and @DST@ replaced), loads it
// and runs serve, pacing the intake as the daemon does, until the test
// stops it.
func startDaemon(t *testing.T, src, dst, cfgText string, pretend bool) *daemonRun {
	t.Helper()
	return startDaemonPaced(t, src, dst, cfgText, pretend, intakePace)
}

// startDaemonPaced is startDaemon with the watchers' Options.Pace.
func startDaemonPaced(t *testing.T, src, dst, cfgText string, pretend bool, pace time.Duration) *daemonRun {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "cfg.py")
	cfgText = strings.NewReplacer("@SRC@", src, "@DST@", dst).Replace(cfgText)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	return runServe(t, cfgPath, serveOptions{pretend: pretend, pace: pace})
}

// runServe loads the config file and runs serve on it, logging at debug
// level, until the test stops it; a failed test shows the log.
func runServe(t *testing.T, cfgPath string, so serveOptions) *daemonRun {
	t.Helper()
	cfg, err := config.Load(cfgPath, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemonRun{logs: &testutil.LockedBuffer{}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	lg := zerolog.New(d.logs).Level(zerolog.DebugLevel)
	go func() { d.err = serve(ctx, cfg, so, lg); close(d.done) }()
	t.Cleanup(func() {
		cancel()
		<-d.done
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.logs.String())
		}
	})
	return d
}

// tree lists a directory as sorted "rel:content" lines, dirs as "rel/",
// symlinks as "rel->target".
func tree(root string) string {
	var lines []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			lines = append(lines, fmt.Sprintf("%q->%q", rel, l))
		case d.IsDir():
			lines = append(lines, fmt.Sprintf("%q/", rel))
		default:
			c, _ := os.ReadFile(p)
			lines = append(lines, fmt.Sprintf("%q:%q", rel, c))
		}
		return nil
	})
	return strings.Join(lines, "\n")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// converges waits until dst holds exactly what src holds.
func converges(t *testing.T, src, dst, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for tree(src) != tree(dst) {
		if time.Now().After(deadline) {
			a, b := strings.Split(tree(src), "\n"), strings.Split(tree(dst), "\n")
			in := func(list []string) map[string]bool {
				m := map[string]bool{}
				for _, x := range list {
					m[x] = true
				}
				return m
			}
			ma, mb := in(a), in(b)
			var diff []string
			for _, x := range a {
				if !mb[x] {
					diff = append(diff, "only in source: "+x)
				}
			}
			for _, x := range b {
				if !ma[x] {
					diff = append(diff, "only in target: "+x)
				}
			}
			if len(diff) > 20 {
				diff = append(diff[:20], "…")
			}
			t.Fatalf("still waiting after 20s for %s: target differs from source:\n%s", what, strings.Join(diff, "\n"))
		}
		time.Sleep(5 * time.Millisecond) // poll interval, not a guess
	}
}

const localCfg = `wpaths = ["@SRC@/"]
rpaths = ["@DST@/"]
rnodes = [""]
edelay = 0
`

func TestDaemonLocalTarget(t *testing.T) { daemonLocalTarget(t, localCfg) }

func TestDaemonLocalTargetFanotify(t *testing.T) {
	needFanotify(t)
	daemonLocalTarget(t, localCfg+fanotifyCfg)
}

// fanotifyCfg, added to a config, watches its trees with fanotify.
const fanotifyCfg = "watcher = \"fanotify\"\n"

// needFanotify skips the test (under CI fails it) where fanotify cannot
// be used: not root, or a kernel older than 5.17. The group it tries is
// closed when it returns.
func needFanotify(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f, err := watch.NewFanotify(ctx, watch.FanotifyOptions{Logger: zerolog.Nop()})
	cancel()
	if err == nil {
		<-f.Done()
	}
	testutil.Need(t, "fanotify (root, Linux 5.17)", err)
}

// daemonLocalTarget syncs to a local target what a sysadmin's trees go
// through: new, deep, deleted, renamed and moved-in files and directories,
// awkward names, a same-size rewrite, symlinks.
func daemonLocalTarget(t *testing.T, cfgText string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst, outside := filepath.Join(base, "src"), filepath.Join(base, "dst"), filepath.Join(base, "outside")
	writeFile(t, filepath.Join(src, "old/f"), "initial")
	must(t, os.MkdirAll(dst, 0o755))
	d := startDaemon(t, src, dst, cfgText, false)
	converges(t, src, dst, "the initial sync")
	if want := `"watcher":"fanotify"`; strings.Contains(cfgText, fanotifyCfg) && !strings.Contains(d.logs.String(), want) {
		t.Errorf("no %s in the log: the tree is not watched with fanotify", want)
	}

	t.Run("create", func(t *testing.T) {
		writeFile(t, filepath.Join(src, "new.txt"), "hello")
		converges(t, src, dst, "a new file")
	})
	t.Run("mkdir -p and write at once", func(t *testing.T) {
		must(t, os.MkdirAll(filepath.Join(src, "a/b/c"), 0o755))
		writeFile(t, filepath.Join(src, "a/b/c/f"), "deep")
		converges(t, src, dst, "a deep new directory")
	})
	t.Run("delete", func(t *testing.T) {
		must(t, os.Remove(filepath.Join(src, "new.txt")))
		must(t, os.RemoveAll(filepath.Join(src, "old")))
		converges(t, src, dst, "deletions")
	})
	t.Run("directory rename, then writes inside it and below", func(t *testing.T) {
		must(t, os.Rename(filepath.Join(src, "a"), filepath.Join(src, "z")))
		writeFile(t, filepath.Join(src, "z/in-renamed"), "1")
		writeFile(t, filepath.Join(src, "z/b/in-sub"), "2")
		converges(t, src, dst, "the renamed tree")
		// Later writes under the new name are seen too (the watches moved).
		writeFile(t, filepath.Join(src, "z/b/c/later"), "3")
		converges(t, src, dst, "a later write in the renamed tree")
	})
	t.Run("moved in from outside", func(t *testing.T) {
		writeFile(t, filepath.Join(outside, "m/n/file"), "moved")
		writeFile(t, filepath.Join(outside, "single"), "one")
		must(t, os.Rename(filepath.Join(outside, "m"), filepath.Join(src, "m")))
		must(t, os.Rename(filepath.Join(outside, "single"), filepath.Join(src, "single")))
		converges(t, src, dst, "moved-in tree and file")
		writeFile(t, filepath.Join(src, "m/n/after"), "watched")
		converges(t, src, dst, "a write in the moved-in tree")
	})
	t.Run("awkward names", func(t *testing.T) {
		for _, n := range []string{"with space", "new\nline", "-leading-dash", "--delete", "bad\xff\xfebytes", "quote'\"", "star*?[x]", "x%s"} {
			writeFile(t, filepath.Join(src, "names", n), n)
		}
		converges(t, src, dst, "awkward names")
		must(t, os.Rename(filepath.Join(src, "names", "new\nline"), filepath.Join(src, "names", "-renamed\n")))
		converges(t, src, dst, "an awkward rename")
	})
	t.Run("same size rewrite within one second", func(t *testing.T) {
		p := filepath.Join(src, "same.txt")
		writeFile(t, p, "AAAA")
		converges(t, src, dst, "the first version")
		now := time.Now().Truncate(time.Second)
		must(t, os.Chtimes(p, now, now))
		converges(t, src, dst, "the first version's mtime")
		writeFile(t, p, "BBBB")
		must(t, os.Chtimes(p, now, now.Add(500*time.Millisecond))) // same second, same size
		converges(t, src, dst, "the rewrite in the same second")
	})
	t.Run("symlinks", func(t *testing.T) {
		must(t, os.Symlink("z/b", filepath.Join(src, "link")))
		converges(t, src, dst, "a symlink, as a link")
	})
	if err := d.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !strings.Contains(d.logs.String(), `"message":"rsync"`) || !strings.Contains(d.logs.String(), `"duration_ms"`) {
		t.Errorf("no rsync log lines with duration_ms:\n%s", d.logs.String())
	}
}

func TestDaemonPretendRunsNoRsync(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "f"), "1")
	must(t, os.MkdirAll(dst, 0o755))
	d := startDaemon(t, src, dst, localCfg, true)
	testutil.Eventually(t, 10*time.Second, "the initial would-execute line", func() bool {
		return strings.Contains(d.logs.String(), `"argv":"/usr/bin/rsync -ltrp --delete --bwlimit=0 `+src+"/ "+dst+`/"`)
	})
	writeFile(t, filepath.Join(src, "g"), "2")
	testutil.Eventually(t, 10*time.Second, "a would-execute line for the change", func() bool {
		return strings.Count(d.logs.String(), `"message":"would execute"`) >= 2 && strings.Contains(d.logs.String(), "--files-from=-")
	})
	must(t, d.stop(t))
	if got := tree(dst); got != "" {
		t.Errorf("pretend mode changed the target:\n%s", got)
	}
}

func TestDaemonStopFlushesPendingUnderLongDelay(t *testing.T) {
	daemonStopFlushesPending(t, localCfg)
}

func TestDaemonStopFlushesPendingFanotify(t *testing.T) {
	needFanotify(t)
	daemonStopFlushesPending(t, localCfg+fanotifyCfg)
}

// daemonStopFlushesPending: changes held for an hour are synced at stop.
func daemonStopFlushesPending(t *testing.T, cfgText string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.MkdirAll(dst, 0o755))
	d := startDaemon(t, src, dst, strings.Replace(cfgText, "edelay = 0", "edelay = 3600", 1), false)
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return strings.Contains(d.logs.String(), `"full":true`) })
	writeFile(t, filepath.Join(src, "a/b/pending"), "x")
	writeFile(t, filepath.Join(src, "top"), "y")
	// The watcher saw them (debug lines); nothing is synced for an hour.
	testutil.Eventually(t, 10*time.Second, "the events", func() bool { return strings.Contains(d.logs.String(), `"rel":"top"`) })
	if tree(dst) == tree(src) {
		t.Fatal("synced before edelay ran out")
	}
	if err := d.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got, want := tree(dst), tree(src); got != want {
		t.Errorf("after SIGTERM the target is\n%s\nwant\n%s", got, want)
	}
}

// flakyRsync writes an rsync wrapper that fails its first n runs with exit
// 12 and then runs the real rsync; it counts runs in DIR/count.
func flakyRsync(t *testing.T, n int) (path, countFile string) {
	dir := t.TempDir()
	path, countFile = filepath.Join(dir, "rsync"), filepath.Join(dir, "count")
	script := fmt.Sprintf(`#!/bin/sh
c=$(cat %[1]s 2>/dev/null || echo 0)
echo $((c+1)) > %[1]s
if [ "$c" -ge 1 ] && [ "$c" -le %[2]d ]; then echo "rsync: connection unexpectedly closed" >&2; exit 12; fi
exec /usr/bin/rsync "$@"
`, countFile, n)
	must(t, os.WriteFile(path, []byte(script), 0o755))
	return path, countFile
}

func TestDaemonRsyncFailsTwiceThenWorks(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.MkdirAll(dst, 0o755))
	rs, _ := flakyRsync(t, 2) // run 1 (initial) works, runs 2 and 3 fail
	d := startDaemon(t, src, dst, localCfg+fmt.Sprintf("rsync = %q\n", rs), false)
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return strings.Contains(d.logs.String(), `"full":true`) })
	writeFile(t, filepath.Join(src, "f"), "must arrive")
	converges(t, src, dst, "the change, after two failures and backoff")
	must(t, d.stop(t))
	// One warning for the series, one line for the recovery (the first
	// failure was a list run of one file).
	if n := strings.Count(d.logs.String(), "rsync failed; will retry"); n != 1 {
		t.Errorf("%d failures logged as warnings, want 1", n)
	}
	if n := strings.Count(d.logs.String(), "node (local) recovered after"); n != 1 {
		t.Errorf("%d recoveries logged, want 1", n)
	}
}

func TestDaemonOverflowEndsComplete(t *testing.T) {
	daemonOverflowEndsComplete(t, inotifytest.Inotify, localCfg)
}

func TestDaemonOverflowEndsCompleteFanotify(t *testing.T) {
	needFanotify(t)
	daemonOverflowEndsComplete(t, inotifytest.Fanotify, localCfg+fanotifyCfg)
}

// daemonOverflowEndsComplete: the watcher's queue (knob, lowered to 16
// for the daemon's start) overflows in a burst; the target still ends
// equal to the source.
func daemonOverflowEndsComplete(t *testing.T, knob inotifytest.Knob, cfgText string) {
	testutil.NeedRsync(t)
	restore := knob.Lower(t, 16)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.MkdirAll(dst, 0o755))
	d := startDaemon(t, src, dst, cfgText, false)
	testutil.Eventually(t, 10*time.Second, "the watcher", func() bool { return strings.Contains(d.logs.String(), `"full":true`) })
	restore() // the limit applies to instances made from now on
	// A burst far beyond 16 queued events, in many new dirs, with renames.
	for i := range 40 {
		for j := range 25 {
			writeFile(t, filepath.Join(src, fmt.Sprintf("d%02d/f%02d", i, j)), fmt.Sprint(i*j))
		}
		if i%5 == 0 {
			must(t, os.Rename(filepath.Join(src, fmt.Sprintf("d%02d", i)), filepath.Join(src, fmt.Sprintf("r%02d", i))))
		}
	}
	converges(t, src, dst, "the burst")
	must(t, d.stop(t))
	if !strings.Contains(d.logs.String(), "overflow") {
		t.Errorf("the burst did not overflow the 16-event queue: the test proved nothing about overflows")
	}
}

// TestDaemonChurn is a seeded random workload: files and directories are
// created, written, renamed across directories and deleted for a few
// seconds; afterwards the target equals the source.
func TestDaemonChurn(t *testing.T) { daemonChurn(t, localCfg) }

func TestDaemonChurnFanotify(t *testing.T) {
	needFanotify(t)
	daemonChurn(t, localCfg+fanotifyCfg)
}

// daemonChurn makes, rewrites, renames and deletes files and directories
// at random for 3 s, then waits for the target to match.
func daemonChurn(t *testing.T, cfgText string) {
	testutil.NeedRsync(t)
	seed := time.Now().UnixNano()
	if s := os.Getenv("INOSYNC_CHURN_SEED"); s != "" {
		_, _ = fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (rerun with INOSYNC_CHURN_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.MkdirAll(dst, 0o755))
	d := startDaemon(t, src, dst, strings.Replace(cfgText, "edelay = 0", "edelay = 0.05", 1), false)
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return strings.Contains(d.logs.String(), `"full":true`) })

	var dirs, files []string
	dirs = append(dirs, "")
	pick := func(list []string) string { return list[rng.Intn(len(list))] }
	exists := func(rel string) bool { _, err := os.Lstat(filepath.Join(src, rel)); return err == nil }
	ops := 0
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); ops++ {
		switch r := rng.Intn(100); {
		case r < 15: // mkdir (sometimes deep)
			rel := filepath.Join(pick(dirs), fmt.Sprintf("d%d", ops))
			if rng.Intn(3) == 0 {
				rel = filepath.Join(rel, "x", "y")
			}
			if os.MkdirAll(filepath.Join(src, rel), 0o755) == nil {
				dirs = append(dirs, rel)
			}
		case r < 45: // create or rewrite a file
			rel := filepath.Join(pick(dirs), fmt.Sprintf("f%d", rng.Intn(50)))
			if os.WriteFile(filepath.Join(src, rel), []byte(fmt.Sprint(ops, rng.Int())), 0o644) == nil {
				files = append(files, rel)
			}
		case r < 60 && len(files) > 0: // rename a file across directories
			from := pick(files)
			to := filepath.Join(pick(dirs), fmt.Sprintf("mv%d", ops))
			if exists(from) && os.Rename(filepath.Join(src, from), filepath.Join(src, to)) == nil {
				files = append(files, to)
			}
		case r < 70 && len(dirs) > 1: // rename a directory across directories
			from := pick(dirs[1:])
			to := filepath.Join(pick(dirs), fmt.Sprintf("rd%d", ops))
			if !strings.HasPrefix(to+"/", from+"/") && exists(from) && os.Rename(filepath.Join(src, from), filepath.Join(src, to)) == nil {
				dirs = append(dirs, to)
			}
		case r < 85 && len(files) > 0: // delete a file
			_ = os.Remove(filepath.Join(src, pick(files)))
		case r < 90 && len(dirs) > 1: // delete a directory tree
			_ = os.RemoveAll(filepath.Join(src, pick(dirs[1:])))
		default: // append to a file
			if len(files) > 0 {
				if f, err := os.OpenFile(filepath.Join(src, pick(files)), os.O_APPEND|os.O_WRONLY, 0); err == nil {
					_, _ = f.WriteString("+")
					_ = f.Close()
				}
			}
		}
		// Drop names that no longer exist, so picks stay useful.
		if ops%50 == 0 {
			keep := dirs[:1]
			for _, d := range dirs[1:] {
				if exists(d) {
					keep = append(keep, d)
				}
			}
			dirs = keep
		}
	}
	t.Logf("%d operations", ops)
	converges(t, src, dst, "after the churn")
	must(t, d.stop(t))
}

// TestDaemonSIGTERM runs the real binary and stops it with SIGTERM: exit 0.
func TestDaemonSIGTERM(t *testing.T) { daemonSIGTERM(t, localCfg) }

func TestDaemonSIGTERMFanotify(t *testing.T) {
	needFanotify(t)
	daemonSIGTERM(t, localCfg+fanotifyCfg)
}

// daemonSIGTERM runs the binary on cfgText and stops it with SIGTERM.
func daemonSIGTERM(t *testing.T, cfgText string) {
	testutil.NeedRsync(t)
	bin := buildInosync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "f"), "1")
	must(t, os.MkdirAll(dst, 0o755))
	cfgPath := filepath.Join(base, "cfg.py")
	must(t, os.WriteFile(cfgPath, []byte(strings.NewReplacer("@SRC@", src, "@DST@", dst).Replace(cfgText)), 0o644))
	var logs testutil.LockedBuffer
	cmd := exec.Command(bin, "-c", cfgPath)
	cmd.Stderr = &logs
	must(t, cmd.Start())
	converges(t, src, dst, "the initial sync")
	writeFile(t, filepath.Join(src, "g"), "2")
	converges(t, src, dst, "a change")
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	// Not a terminal: the log is JSON, one object per line.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("not a JSON log line: %q", line)
		}
	}
}

// TestDaemonMaskedOpsRideAlong: ops outside emask start no sync but are not
// lost: 0.2.3 synced the whole tree on the next event, so a chmod or a
// delete reached the target then; here they go with the next batch.
func TestDaemonMaskedOpsRideAlong(t *testing.T) { daemonMaskedOpsRideAlong(t, localCfg) }

func TestDaemonMaskedOpsRideAlongFanotify(t *testing.T) {
	needFanotify(t)
	daemonMaskedOpsRideAlong(t, localCfg+fanotifyCfg)
}

// daemonMaskedOpsRideAlong: a chmod and a delete outside emask go with
// the next batch that a create starts.
func daemonMaskedOpsRideAlong(t *testing.T, cfgText string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "a"), "a")
	writeFile(t, filepath.Join(src, "b"), "b")
	must(t, os.MkdirAll(dst, 0o755))
	d := startDaemon(t, src, dst, cfgText+`emask = ["IN_CLOSE_WRITE", "IN_CREATE"]`+"\n", false)
	converges(t, src, dst, "the initial sync")
	must(t, os.Chmod(filepath.Join(src, "a"), 0o600))
	must(t, os.Remove(filepath.Join(src, "b")))
	writeFile(t, filepath.Join(src, "c"), "c") // IN_CREATE: starts the batch
	converges(t, src, dst, "the create, with the masked chmod and delete")
	fi, err := os.Stat(filepath.Join(dst, "a"))
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("a on the target is %v, want 0600", fi.Mode().Perm())
	}
	must(t, d.stop(t))
}

// A relative path in extra resolves where the daemon was started, also
// while the watcher walks new directories. Trees of many directories are
// moved in (long walks) while a writer keeps rsync busy: every run must
// succeed, and the excluded files never arrive.
func TestDaemonRelativeExtraWhileWalking(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	src, dst, start, outside := filepath.Join(base, "src"), filepath.Join(base, "dst"), filepath.Join(base, "start"), filepath.Join(base, "outside")
	writeFile(t, filepath.Join(start, "ex.txt"), "skip*\n")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.MkdirAll(dst, 0o755))
	t.Chdir(start)
	d := startDaemon(t, src, dst, localCfg+"extra = \"--exclude-from=ex.txt\"\n", false)
	converges(t, src, dst, "the initial sync")

	stop, written := make(chan struct{}), make(chan struct{})
	go func() { // keeps rsync starting
		defer close(written)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = os.WriteFile(filepath.Join(src, fmt.Sprintf("w%d", i%50)), []byte(fmt.Sprint(i)), 0o644)
			time.Sleep(time.Millisecond) // pacing the writer, not waiting for a result
		}
	}()
	const trees = 20
	for i := range trees {
		tr := filepath.Join(outside, fmt.Sprintf("t%d", i))
		for j := range 600 {
			must(t, os.MkdirAll(filepath.Join(tr, fmt.Sprintf("d%d/e%d", j%30, j)), 0o755))
		}
		writeFile(t, filepath.Join(tr, "d0/keep"), "k")
		writeFile(t, filepath.Join(tr, "d0/skip-me"), "s")
		must(t, os.Rename(tr, filepath.Join(src, fmt.Sprintf("t%d", i))))
	}
	// The writes go on until rsync has started a few times (a busy machine
	// batches them into fewer runs).
	testutil.Eventually(t, 30*time.Second, "five rsync runs", func() bool {
		return strings.Count(d.logs.String(), `"message":"rsync"`) >= 5
	})
	close(stop)
	<-written
	for i := range trees {
		must(t, os.Remove(filepath.Join(src, fmt.Sprintf("t%d/d0/skip-me", i))))
	}
	converges(t, src, dst, "the moved-in trees and the writes")
	if err := d.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	runs := 0
	for _, line := range strings.Split(d.logs.String(), "\n") {
		if !strings.Contains(line, `"message":"rsync"`) {
			continue
		}
		runs++
		if !strings.Contains(line, `"exit":0`) && !strings.Contains(line, `"exit":24`) {
			t.Errorf("a run failed: %s", line)
		}
	}
	if runs < 5 {
		t.Errorf("only %d rsync runs", runs)
	}
}
