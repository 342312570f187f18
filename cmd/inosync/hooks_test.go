package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/internal/testutil"
	"github.com/inosync/inosync/rsync/filter"
)

// countingRsync writes an rsync wrapper that appends each run's argv to a
// log, one line a run, then runs the real rsync.
func countingRsync(t *testing.T) (path, runs string) {
	dir := t.TempDir()
	path, runs = filepath.Join(dir, "rsync"), filepath.Join(dir, "runs")
	script := fmt.Sprintf(`#!/bin/sh
printf '%%s\n' "$*" >> %s
exec /usr/bin/rsync "$@"
`, runs)
	must(t, os.WriteFile(path, []byte(script), 0o755))
	return path, runs
}

// runsFor counts the wrapper's runs to target (a directory written with its
// trailing slash), the last argument. (A list run's source operand is "/",
// whatever the tree: see rsync.ListArgv.)
func runsFor(t *testing.T, runs, target string) int {
	b, err := os.ReadFile(runs)
	if os.IsNotExist(err) {
		return 0
	}
	must(t, err)
	n := 0
	for line := range strings.Lines(string(b)) {
		if strings.HasSuffix(line, " "+target+"\n") {
			n++
		}
	}
	return n
}

// TestHooksKeepFilesOffAndStartNoRsync shows, for each kind of exclusion,
// that the file stays off the target and that no rsync is started for it:
// after the excluded changes, one sentinel change gives exactly one more
// run, carrying one file.
func TestHooksKeepFilesOffAndStartNoRsync(t *testing.T) { hooksKeepFilesOff(t, "") }

func TestHooksKeepFilesOffFanotify(t *testing.T) {
	needFanotify(t)
	hooksKeepFilesOff(t, fanotifyCfg)
}

// hooksKeepFilesOff: extra is added to the config.
func hooksKeepFilesOff(t *testing.T, extra string) {
	testutil.NeedRsync(t)
	rs, runs := countingRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	boom, boomDst := filepath.Join(base, "boom"), filepath.Join(base, "boomdst")
	writeFile(t, filepath.Join(src, "cache/old"), "cached")
	writeFile(t, filepath.Join(src, "keep"), "1")
	must(t, os.MkdirAll(dst, 0o755))
	must(t, os.MkdirAll(boom, 0o755))
	must(t, os.MkdirAll(boomDst, 0o755))
	cfg := fmt.Sprintf(`rnodes = [""]
edelay = 0
rsync = %q

sync(
    source = %q,
    target = %q,
    excludes = ["/cache/", "*.tmp"],
    exclude = lambda path, is_dir: path.endswith(".part"),
    filter = lambda event: not event.path.startswith("ignored/"),
)

def exclude(path, is_dir):
    return path.endswith("~")

sync(source = %q, target = %q,
     exclude = lambda path, is_dir: 1 // 0 if path == "boom" else False)
`+extra, rs, src+"/", dst+"/", boom+"/", boomDst+"/")
	must(t, os.MkdirAll(filepath.Join(src, "ignored"), 0o755))
	// Present at start: the initial (full) sync leaves them out too.
	writeFile(t, filepath.Join(src, "pre.part"), "lambda exclude")
	writeFile(t, filepath.Join(src, "sub/pre~"), "global exclude")
	d := startDaemon(t, src, dst, cfg, false)
	testutil.Eventually(t, 10*time.Second, "both initial syncs to finish", func() bool {
		return strings.Count(d.logs.String(), `"full":true,`) == 2
	})

	// With inotify, the excluded directory holds no watch: src, ignored
	// (filtered, but watched) and nothing for cache.
	if extra == "" && !regexp.MustCompile(`"path":"`+regexp.QuoteMeta(src)+`/","watches":3,`).MatchString(d.logs.String()) {
		t.Errorf("want 3 watches on %s (src, ignored, sub: cache/ excluded):\n%s", src, d.logs.String())
	}

	writeFile(t, filepath.Join(src, "cache/new"), "per-tree pattern")
	writeFile(t, filepath.Join(src, "a.tmp"), "per-tree pattern")
	writeFile(t, filepath.Join(src, "b.part"), "lambda exclude")
	writeFile(t, filepath.Join(src, "c~"), "global exclude")
	writeFile(t, filepath.Join(src, "ignored/d"), "event filter")
	writeFile(t, filepath.Join(src, "sentinel"), "synced")
	// The sentinel's run, logged once rsync has exited, carries one file.
	testutil.Eventually(t, 10*time.Second, "the sentinel's run", func() bool {
		return strings.Contains(d.logs.String(), `"path":"`+src+`/","node":"(local)","files":1,"full":false`)
	})
	if _, err := os.Stat(filepath.Join(dst, "sentinel")); err != nil {
		t.Errorf("the sentinel did not arrive: %v", err)
	}
	// Every run after the initial one carried only the sentinel (its
	// create and its write may come as two runs), and rsync ran no more
	// often than that.
	listRe := regexp.MustCompile(`"path":"` + regexp.QuoteMeta(src) + `/","node":"\(local\)","argv":"[^"]*","list":(\[[^]]*\])`)
	var lists [][]string
	n := 0
	testutil.Eventually(t, 10*time.Second, "every started run to be logged", func() bool {
		lists = listRe.FindAllStringSubmatch(d.logs.String(), -1)
		n = runsFor(t, runs, dst+"/")
		return n == len(lists)
	})
	for _, l := range lists[1:] {
		if l[1] != `["sentinel"]` {
			t.Errorf("a run for %s carried %s, want only the sentinel", src, l[1])
		}
	}
	if n < 2 || n > 3 {
		t.Errorf("%d rsync runs for %s; want the initial one and one or two for the sentinel", n, src)
	}
	// A directory moved in is synced recursively: its excluded files stay
	// behind. (Made outside and moved in at once: a file created while the
	// dispatcher walks a new directory may still slip through, see
	// rsync.excludeList.)
	writeFile(t, filepath.Join(base, "outside/newdir/deep/x.part"), "lambda exclude")
	writeFile(t, filepath.Join(base, "outside/newdir/deep/y"), "synced")
	must(t, os.Rename(filepath.Join(base, "outside/newdir"), filepath.Join(src, "newdir")))
	testutil.Eventually(t, 10*time.Second, "the new directory", func() bool {
		_, err := os.Stat(filepath.Join(dst, "newdir/deep/y"))
		return err == nil
	})
	for _, p := range []string{"cache/new", "a.tmp", "b.part", "c~", "ignored/d", "pre.part", "sub/pre~", "newdir/deep/x.part"} {
		if _, err := os.Stat(filepath.Join(dst, p)); err == nil {
			t.Errorf("%s reached the target", p)
		}
	}

	// A failing hook: the path counts as not excluded, and the failure is
	// logged once, with the hook's file:line.
	writeFile(t, filepath.Join(boom, "boom"), "1")
	testutil.Eventually(t, 10*time.Second, "the file the hook failed on", func() bool {
		b, err := os.ReadFile(filepath.Join(boomDst, "boom"))
		return err == nil && string(b) == "1"
	})
	writeFile(t, filepath.Join(boom, "boom"), "2")
	testutil.Eventually(t, 10*time.Second, "its rewrite", func() bool {
		b, err := os.ReadFile(filepath.Join(boomDst, "boom"))
		return err == nil && string(b) == "2"
	})
	must(t, d.stop(t))
	logs := d.logs.String()
	if n := strings.Count(logs, "config hook failed"); n != 1 {
		t.Errorf("%d hook failure lines, want 1 (once per cause):\n%s", n, logs)
	}
	if !strings.Contains(logs, `cfg.py:17: sync(exclude=…) hook failed: floored division by zero`) {
		t.Errorf("the hook failure does not name its file:line and cause:\n%s", logs)
	}
}

// The watcher's exclude anchors a pattern where rsync does: at the source
// for a source written with a trailing slash, else at its parent, below
// which the tree's paths begin with its name.
func TestTreeFiltersAnchoredAtTransferRoot(t *testing.T) {
	m, err := filter.Compile([]string{"/cache/", "/src/logs/", "*.tmp"})
	must(t, err)
	for _, c := range []struct {
		source, rel string
		isDir, want bool
	}{
		{"/x/src/", "cache", true, true},
		{"/x/src/", "logs", true, false},
		{"/x/src/", "a/b.tmp", false, true},
		{"/x/src", "cache", true, false},
		{"/x/src", "logs", true, true},
		{"/x/src", "logs/new.log", false, true},
		{"/x/src", "a/b.tmp", false, true},
		{"/x/src", "", true, false},
	} {
		exclude, _, _ := treeFilters(config.Sync{Source: c.source}, m, &hookReporter{seen: map[string]bool{}})
		if got := exclude(c.rel, c.isDir); got != c.want {
			t.Errorf("source %s: exclude(%q, %v) = %v, want %v", c.source, c.rel, c.isDir, got, c.want)
		}
	}
}
