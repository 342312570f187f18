package rsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sourceWithFile makes a temp dir holding a source tree src (with a
// trailing slash) of one file, f = "1", and names dst beside it (not
// made), the prologue of many dispatcher tests.
func sourceWithFile(t *testing.T) (dir, src, dst string) {
	t.Helper()
	dir = t.TempDir()
	src, dst = filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "f"), "1")
	return dir, src, dst
}

// snapshot lists a tree as "rel:content" lines (dirs as "rel/").
func snapshot(root string) string {
	var b strings.Builder
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			fmt.Fprintf(&b, "%s/\n", rel)
			return nil
		}
		c, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "%s:%s\n", rel, c)
		return nil
	})
	return b.String()
}

func TestDispatchInitialThenList(t *testing.T) {
	rs := testutil.NeedRsync(t)
	for _, c := range []struct{ slash, warm bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		slash, warm := c.slash, c.warm
		t.Run(fmt.Sprintf("trailing slash %v, warm rsync %v", slash, warm), func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			write(t, filepath.Join(src, "a/f"), "1")
			write(t, filepath.Join(src, "a/b/g"), "2")
			write(t, filepath.Join(src, "c/h"), "3")
			write(t, filepath.Join(src, "skip.tmp"), "x")
			source, target := src, dst
			if slash {
				source += "/"
			} else {
				target = dst + "/" // the directory itself goes below it
			}
			var logs testutil.LockedBuffer
			in := make(chan Work)
			done := make(chan error)
			go func() {
				done <- Dispatch(in, Options{
					Jobs:    []Job{{Path: source, Node: "", Dest: target, Settings: Settings{Rsync: rs, Bwlimit: "0", Excludes: []string{"*.tmp"}}}},
					Initial: true,
					Warm:    warm,
					Logger:  zerolog.New(&logs),
				})
			}()
			root := dst
			if !slash {
				root = filepath.Join(dst, "src")
			}
			want := func() string { return strings.ReplaceAll(snapshot(src), "skip.tmp:x\n", "") }
			testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return snapshot(root) == want() })
			// Wait for the run to end: a change during a full run is synced
			// again after it (TestDispatchChangeDuringFullRun).
			testutil.Eventually(t, 10*time.Second, "the initial run's end", func() bool { return strings.Contains(logs.String(), `"full":true`) })

			// Changes: a delete, a new deep dir, a same-size rewrite, a dir removed.
			if err := os.Remove(filepath.Join(src, "a/f")); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(src, "d/e/x"), "new")
			write(t, filepath.Join(src, "a/b/g"), "9")
			if err := os.RemoveAll(filepath.Join(src, "c")); err != nil {
				t.Fatal(err)
			}
			in <- Work{Paths: []string{"a/f", "a/b/g", "c/", "d/"}}
			testutil.Eventually(t, 10*time.Second, "the listed changes", func() bool { return snapshot(root) == want() })
			close(in)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(logs.String(), `"message":"rsync"`); n != 2 {
				t.Errorf("%d rsync runs logged, want 2:\n%s", n, logs.String())
			}
		})
	}
}

// flaky writes an rsync wrapper that fails its first n runs (exit 12, as a
// dropped connection does) and then runs the real rsync. Runs may overlap
// (a change during the initial run gets a run of its own), so the count is
// kept under a lock.
func flaky(t *testing.T, rs string, n int) string {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1)")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "rsync")
	counter := filepath.Join(dir, "count")
	body := fmt.Sprintf(`#!/bin/sh
exec 9>>%[1]s.lock
flock 9
c=$(cat %[1]s 2>/dev/null || echo 0)
echo $((c+1)) > %[1]s
flock -u 9
if [ "$c" -lt %[2]d ]; then echo "rsync: connection unexpectedly closed" >&2; exit 12; fi
exec %[3]s "$@"
`, counter, n, rs)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

func TestDispatchRetriesFailedNodeOthersGoOn(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src") + "/"
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	write(t, filepath.Join(src, "f"), "1")
	var logs testutil.LockedBuffer
	in := make(chan Work)
	done := make(chan error)
	o := Options{
		Jobs: []Job{
			{Path: src, Node: "good", Dest: good, Settings: Settings{Rsync: rs, Bwlimit: "0"}},
			{Path: src, Node: "bad", Dest: bad, Settings: Settings{Rsync: flaky(t, rs, 2), Bwlimit: "0"}},
		},
		Initial: true,
		Logger:  zerolog.New(&logs),
	}
	o.Backoff.Min, o.Backoff.Max = 20*time.Millisecond, 40*time.Millisecond
	go func() { done <- Dispatch(in, o) }()
	// The good node syncs at once; the failing one catches up after two retries.
	testutil.Eventually(t, 10*time.Second, "the good node", func() bool { return snapshot(good) == "f:1\n" })
	write(t, filepath.Join(src, "g"), "2")
	in <- Work{Paths: []string{"g"}}
	testutil.Eventually(t, 10*time.Second, "the bad node to catch up", func() bool { return snapshot(bad) == "f:1\ng:2\n" })
	testutil.Eventually(t, 10*time.Second, "the good node", func() bool { return snapshot(good) == "f:1\ng:2\n" })
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// One warning for the series of failures, one line for the recovery.
	if n := strings.Count(logs.String(), "rsync failed; will retry"); n != 1 {
		t.Errorf("%d failures logged as warnings, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "node bad recovered after"); n != 1 {
		t.Errorf("%d recoveries logged, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"node":"bad"`) || !strings.Contains(logs.String(), "connection unexpectedly closed") {
		t.Errorf("the failure log names no node or no cause:\n%s", logs.String())
	}
}

func TestDispatchFinalFlushFailureIsReported(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src") + "/"
	write(t, filepath.Join(src, "f"), "1")
	in := make(chan Work)
	done := make(chan error)
	o := Options{
		Jobs:   []Job{{Path: src, Node: "down:", Dest: filepath.Join(dir, "t"), Settings: Settings{Rsync: flaky(t, rs, 1000), Bwlimit: "0"}}},
		Logger: zerolog.Nop(),
	}
	o.Backoff.Min = time.Hour // only the final flush may try again
	go func() { done <- Dispatch(in, o) }()
	in <- Work{Paths: []string{"f"}}
	close(in)
	err := <-done
	if err == nil || !strings.Contains(err.Error(), src+" to "+filepath.Join(dir, "t")+" (1 paths)") {
		t.Fatalf("Dispatch = %v, want an error naming the unsynced path and node", err)
	}
}

func TestDispatchPretendRunsNothing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src") + "/"
	write(t, filepath.Join(src, "f"), "1")
	var logs testutil.LockedBuffer
	in := make(chan Work, 1)
	in <- Work{Paths: []string{"f"}}
	close(in)
	err := Dispatch(in, Options{
		Jobs:    []Job{{Path: src, Dest: filepath.Join(dir, "t"), Settings: Settings{Rsync: "/nonexistent/rsync", Bwlimit: "0"}}},
		Initial: true, Pretend: true, Logger: zerolog.New(&logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t")); !os.IsNotExist(err) {
		t.Errorf("pretend mode created the target: %v", err)
	}
	want := `"argv":"/nonexistent/rsync -ltrp --delete --bwlimit=0 ` + src + " " + filepath.Join(dir, "t") + `"`
	if !strings.Contains(logs.String(), want) || strings.Count(logs.String(), "would execute") < 1 {
		t.Errorf("log lacks %s:\n%s", want, logs.String())
	}
}

func TestCollapse(t *testing.T) {
	set := map[string]struct{}{"a/": {}, "a/b/f": {}, "a/c/": {}, "ab": {}, "b/x": {}, "b/y/": {}, "b/y/z": {}}
	got := collapse(set)
	want := []string{"a/", "ab", "b/x", "b/y/"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("collapse = %q, want %q", got, want)
	}
}

func TestListArgv(t *testing.T) {
	s := Settings{Rsync: "/usr/bin/rsync", Bwlimit: "0", Excludes: []string{"/x"}}
	argv, prefix := ListArgv(s, "/srv/a/./src2", "h:/dst")
	want := "/usr/bin/rsync -ltrp --delete --bwlimit=0 --exclude=/x --modify-window=-1 --from0 --files-from=- --delete-missing-args /srv/a/ h:/dst"
	if Quote(argv) != want || prefix != "./src2/" {
		t.Errorf("ListArgv = %s, %q\nwant      %s, %q", Quote(argv), prefix, want, "./src2/")
	}
	argv, prefix = ListArgv(s, "/srv/a/", "h:")
	if argv[len(argv)-2] != "/srv/a/" || prefix != "./" {
		t.Errorf("ListArgv with a trailing slash: base %q prefix %q", argv[len(argv)-2], prefix)
	}
}

// A waiting rsync starts in / (or the working directory) and finds the
// tree through its names.
func TestWaitingListArgv(t *testing.T) {
	s := Settings{Rsync: "/usr/bin/rsync", Bwlimit: "0", Excludes: []string{"/x"}}
	argv, prefix := WaitingListArgv(s, "/srv/a/./src2", "h:/dst")
	want := "/usr/bin/rsync -ltrp --delete --bwlimit=0 --exclude=/x --modify-window=-1 --from0 --files-from=- --delete-missing-args / h:/dst"
	if Quote(argv) != want || prefix != "./srv/a/././src2/" {
		t.Errorf("WaitingListArgv = %s, %q\nwant             %s, %q", Quote(argv), prefix, want, "./srv/a/././src2/")
	}
	for _, c := range []struct{ source, operand, prefix string }{
		{"/srv/a/", "/", "./srv/a/././"},
		{"/", "/", "./"},
		{"/srv", "/", "./srv/"},
		{"src/", ".", "./src/././"},
		{"src", ".", "./src/"},
		{"./", ".", "./"},
	} {
		argv, prefix = WaitingListArgv(s, c.source, "h:")
		if argv[len(argv)-2] != c.operand || prefix != c.prefix {
			t.Errorf("WaitingListArgv(%q): operand %q prefix %q, want %q %q", c.source, argv[len(argv)-2], prefix, c.operand, c.prefix)
		}
	}
}

// TestDispatchCommentLikeNames: rsync's --files-from reads entries that
// begin with '#' or ';' as comments; such names must still be synced and
// deleted.
func TestDispatchCommentLikeNames(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "keep"), "k")
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{
			Jobs:    []Job{{Path: src + "/.", Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}},
			Initial: true, Logger: zerolog.Nop(),
		})
	}()
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return snapshot(dst) == "keep:k\n" })
	write(t, filepath.Join(src, "#hash"), "1")
	write(t, filepath.Join(src, ";semi"), "2")
	in <- Work{Paths: []string{"#hash", ";semi"}}
	testutil.Eventually(t, 10*time.Second, "#hash and ;semi", func() bool { return snapshot(dst) == snapshot(src) })
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Remove(filepath.Join(src, "#hash")))
	in <- Work{Paths: []string{"#hash"}}
	testutil.Eventually(t, 10*time.Second, "#hash deleted", func() bool { return snapshot(dst) == snapshot(src) })
	close(in)
	must(<-done)
}

// TestDispatchChangeDuringFullRun: a change during the startup sync starts
// its own run at once, and is synced once more after the full run, which
// may have copied an older version of it.
func TestDispatchChangeDuringFullRun(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	// A slow full run: the wrapper sleeps before a run without a file list.
	slow := filepath.Join(dir, "rsync")
	body := "#!/bin/sh\ncase \"$*\" in *files-from*) ;; *) sleep 1 ;; esac\nexec " + rs + " \"$@\"\n"
	if err := os.WriteFile(slow, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs testutil.LockedBuffer
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{
			Jobs:    []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: slow, Bwlimit: "0"}}},
			Initial: true, Logger: zerolog.New(&logs),
		})
	}()
	write(t, filepath.Join(src, "g"), "2")
	in <- Work{Paths: []string{"g"}}
	// g arrives while the full run still sleeps.
	testutil.Eventually(t, 5*time.Second, "g, before the full run ends", func() bool {
		b, err := os.ReadFile(filepath.Join(dst, "g"))
		return err == nil && string(b) == "2"
	})
	if strings.Contains(logs.String(), `"full":true`) {
		t.Fatal("g waited for the full run")
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), `"files":1,"full":false`); n != 2 {
		t.Errorf("g was synced %d times, want 2 (during the full run, and after it)", n)
	}
}

// TestDispatchWarmRespectsMaxProcs: warm rsyncs (started ahead, waiting for
// their lists) count against MaxProcs, and one is retired when another job
// needs the slot; every node still ends in sync.
func TestDispatchWarmRespectsMaxProcs(t *testing.T) {
	rs := testutil.NeedRsync(t)
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1)")
	}
	dir := t.TempDir()
	wrap := filepath.Join(dir, "rsync")
	body := fmt.Sprintf(`#!/bin/sh
d=%q
exec 9>>"$d/lock"
flock 9; n=$(($(cat "$d/cur" 2>/dev/null || echo 0)+1)); echo $n > "$d/cur"
[ $n -gt $(cat "$d/max" 2>/dev/null || echo 0) ] && echo $n > "$d/max"; flock -u 9
%s "$@"; rc=$?
flock 9; echo $(($(cat "$d/cur")-1)) > "$d/cur"; flock -u 9
exit $rc
`, dir, rs)
	if err := os.WriteFile(wrap, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src") + "/"
	write(t, filepath.Join(src, "f0"), "0")
	var jobs []Job
	var dsts []string
	for i := range 3 {
		dst := filepath.Join(dir, fmt.Sprintf("dst%d", i))
		dsts = append(dsts, dst)
		jobs = append(jobs, Job{Path: src, Node: dst, Dest: dst, Settings: Settings{Rsync: wrap, Bwlimit: "0"}})
	}
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{Jobs: jobs, Initial: true, Warm: true, MaxProcs: 2, Logger: zerolog.Nop()})
	}()
	for i := 1; i <= 20; i++ {
		write(t, filepath.Join(src, fmt.Sprintf("f%d", i)), fmt.Sprint(i))
		in <- Work{Paths: []string{fmt.Sprintf("f%d", i)}}
	}
	for _, dst := range dsts {
		testutil.Eventually(t, 20*time.Second, "node "+dst, func() bool { return snapshot(dst) == snapshot(src) })
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "max"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.TrimSpace(string(b)); n != "1" && n != "2" {
		t.Errorf("%s rsyncs at once (warm ones included), want at most 2", n)
	}
}

// startWarmDispatch runs Dispatch with warm rsyncs for one local job (src/
// to dst), list runs less than streamGap apart (0: the default) making a
// stream, and waits for its initial run. Close in, then read done.
func startWarmDispatch(t *testing.T, src, dst string, streamGap time.Duration) (chan<- Work, <-chan error, *testutil.LockedBuffer) {
	t.Helper()
	rs := testutil.NeedRsync(t)
	logs := &testutil.LockedBuffer{}
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{
			Jobs:    []Job{{Path: src + "/", Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}},
			Initial: true, Warm: true, StreamGap: streamGap, Logger: zerolog.New(logs),
		})
	}()
	testutil.Eventually(t, 10*time.Second, "the initial run", func() bool { return strings.Contains(logs.String(), `"full":true`) })
	return in, done, logs
}

// TestDispatchWarmReplaced: a warm rsync handed a list is replaced (after
// warmDelay, so that its start-up does not compete with the transfer), and
// the next change goes to the replacement.
func TestDispatchWarmReplaced(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "a"), "0")
	in, done, logs := startWarmDispatch(t, src, dst, 0)
	for i := 1; i <= 3; i++ {
		// Ready once every child waits for its list (changes in a stream
		// keep two), so that the run is counted below as a warm one.
		testutil.Eventually(t, 10*time.Second, "a warm rsync", func() bool {
			n := len(children())
			return n >= 1 && len(warmWaiting()) == n
		})
		body := fmt.Sprint(i)
		write(t, filepath.Join(src, "a"), body)
		in <- Work{Paths: []string{"a"}}
		testutil.Eventually(t, 10*time.Second, "a = "+body, func() bool {
			b, err := os.ReadFile(filepath.Join(dst, "a"))
			return err == nil && string(b) == body
		})
		testutil.Eventually(t, 10*time.Second, "the run's log line", func() bool {
			return strings.Count(logs.String(), `"full":false`) == i
		})
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), `"full":false,"warm":true`); n != 3 {
		t.Errorf("%d of 3 list runs used a warm rsync:\n%s", n, logs.String())
	}
}

// TestDispatchWarmTwoWhileStreaming: while a job's list runs start less
// than StreamGap apart it keeps two warm rsyncs; the next list goes to
// one of them and the other keeps waiting; once StreamGap has passed
// since the last one, it keeps one. The gap is wide, so that a slow
// machine gets through the stream's steps within it.
func TestDispatchWarmTwoWhileStreaming(t *testing.T) {
	const gap = 5 * time.Second
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "a"), "0")
	write(t, filepath.Join(src, "b"), "0")
	in, done, logs := startWarmDispatch(t, src, dst, gap)
	testutil.Eventually(t, 10*time.Second, "the first warm rsync", func() bool { return len(warmWaiting()) == 1 })
	for _, name := range []string{"a", "b"} {
		write(t, filepath.Join(src, name), "1")
		in <- Work{Paths: []string{name}}
	}
	testutil.Eventually(t, 10*time.Second, "both changes on the target", func() bool { return snapshot(dst) == snapshot(src) })
	testutil.Eventually(t, 10*time.Second, "both runs' log lines", func() bool { return strings.Count(logs.String(), `"full":false`) == 2 })
	var waiting []string
	testutil.Eventually(t, 10*time.Second, "two warm rsyncs and nothing else", func() bool {
		waiting = warmWaiting()
		return len(waiting) == 2 && len(children()) == 2
	})
	warmRuns := strings.Count(logs.String(), `"full":false,"warm":true`)
	write(t, filepath.Join(src, "a"), "2")
	in <- Work{Paths: []string{"a"}}
	testutil.Eventually(t, 10*time.Second, "a = 2 on the target", func() bool { return snapshot(dst) == snapshot(src) })
	testutil.Eventually(t, 10*time.Second, "the third run's log line", func() bool { return strings.Count(logs.String(), `"full":false`) == 3 })
	if n := strings.Count(logs.String(), `"full":false,"warm":true`); n != warmRuns+1 {
		t.Errorf("the third change did not go to a warm rsync:\n%s", logs.String())
	}
	if left := warmWaiting(); !slices.Contains(left, waiting[0]) && !slices.Contains(left, waiting[1]) {
		t.Errorf("neither of the warm rsyncs %v waits any more (waiting now: %v)", waiting, left)
	}
	// A second after the last list run, the stream is over: one is
	// retired, and no other is started for it.
	testutil.Eventually(t, 2*gap+10*time.Second, "one warm rsync left after the stream", func() bool {
		return len(children()) == 1 && len(warmWaiting()) == 1
	})
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestWarmTakenOldestFirst: a list goes to the warm rsync started first,
// whose start-up is the most likely to be over; a slot is freed by
// retiring the newest.
func TestWarmTakenOldestFirst(t *testing.T) {
	d := newDispatcher(Options{Jobs: []Job{{Path: "/src/", Dest: "/dst/"}}, Logger: zerolog.Nop()})
	j := d.jobs[0]
	first, second, third := &warmRsync{}, &warmRsync{}, &warmRsync{}
	j.warm, d.warmWaiting = []*warmRsync{first, second, third}, 3
	if w := d.takeNewestWarm(j); w != third {
		t.Errorf("takeNewestWarm took %p, want the newest %p", w, third)
	}
	if w := d.takeWarm(j); w != first {
		t.Errorf("takeWarm took %p, want the oldest %p", w, first)
	}
	if len(j.warm) != 1 || j.warm[0] != second || d.warmWaiting != 1 {
		t.Errorf("left %v (%d counted), want only %p", j.warm, d.warmWaiting, second)
	}
}

// TestKeepWarmFirstBeforeSecond: when one process slot is left, a job
// without a warm rsync gets it before a job in a stream gets its second,
// even though the streaming job listed more recently; with a slot more,
// both are started.
func TestKeepWarmFirstBeforeSecond(t *testing.T) {
	for _, c := range []struct {
		maxProcs             int
		wantFirst, wantSpare int
	}{{2, 1, 0}, {3, 1, 1}} {
		jobs := []Job{{Tree: 0, Path: "/a/", Dest: "/da/"}, {Tree: 1, Path: "/b/", Dest: "/db/"}}
		d := newDispatcher(Options{Jobs: jobs, Warm: true, MaxProcs: c.maxProcs, Logger: zerolog.Nop()})
		d.warmStarter = func(context.Context, Job) (*warmRsync, error) { return nil, errors.New("not started in this test") }
		streaming, first := d.jobs[0], d.jobs[1]
		now := time.Now()
		streaming.listed, streaming.streaming = now, true
		first.listed = now.Add(-time.Minute) // ranked after the streaming job
		streaming.warm, d.warmWaiting = []*warmRsync{{}}, 1
		d.keepWarm()
		if first.warmStarting != c.wantFirst || streaming.warmStarting != c.wantSpare {
			t.Errorf("max_processes %d: started %d for the job with none (want %d) and %d for the streaming job's second (want %d)",
				c.maxProcs, first.warmStarting, c.wantFirst, streaming.warmStarting, c.wantSpare)
		}
	}
}

// TestKeepWarmFirstDisplacesSecond: at the process bound, a job without a
// warm rsync has another job's second one retired for it, and gets its
// own once that one has exited.
func TestKeepWarmFirstDisplacesSecond(t *testing.T) {
	jobs := []Job{{Tree: 0, Path: "/a/", Dest: "/da/"}, {Tree: 1, Path: "/b/", Dest: "/db/"}}
	d := newDispatcher(Options{Jobs: jobs, Warm: true, MaxProcs: 2, Logger: zerolog.Nop()})
	d.warmStarter = func(context.Context, Job) (*warmRsync, error) { return nil, errors.New("not started in this test") }
	streaming, first := d.jobs[0], d.jobs[1]
	now := time.Now()
	streaming.listed, streaming.streaming = now, true
	first.listed = now.Add(-time.Minute)
	older, newer := exitedWarm(t), exitedWarm(t)
	streaming.warm, d.warmWaiting = []*warmRsync{older, newer}, 2
	d.keepWarm()
	if len(streaming.warm) != 1 || streaming.warm[0] != older || d.warmRetiring != 1 || first.warmStarting != 0 {
		t.Fatalf("at the bound: the streaming job holds %d (the older kept: %v), %d retiring, %d started for the other job; want its newer one retiring and nothing started yet",
			len(streaming.warm), len(streaming.warm) > 0 && streaming.warm[0] == older, d.warmRetiring, first.warmStarting)
	}
	select {
	case <-d.warmRetired:
		d.warmRetiring--
	case <-time.After(10 * time.Second):
		t.Fatal("the retired warm rsync did not report its exit")
	}
	d.keepWarm()
	if first.warmStarting != 1 || streaming.warmStarting != 0 {
		t.Errorf("once the slot is back: %d started for the job with none (want 1), %d for the streaming job (want 0)", first.warmStarting, streaming.warmStarting)
	}
}

// TestKeepWarmFirstDisplacesSecondAtWarmMax: with warmMax warm rsyncs
// waiting, a job without one has another job's second one retired for it
// and its own asked for at once (the bound on processes leaves room).
func TestKeepWarmFirstDisplacesSecondAtWarmMax(t *testing.T) {
	var jobs []Job
	for i := range warmMax {
		jobs = append(jobs, Job{Tree: i, Path: fmt.Sprintf("/t%d/", i), Dest: fmt.Sprintf("/d%d/", i)})
	}
	d := newDispatcher(Options{Jobs: jobs, Warm: true, MaxProcs: 100, Logger: zerolog.Nop()})
	d.warmStarter = func(context.Context, Job) (*warmRsync, error) { return nil, errors.New("not started in this test") }
	now := time.Now()
	streaming, without := d.jobs[0], d.jobs[warmMax-1]
	streaming.listed, streaming.streaming = now, true
	older := exitedWarm(t)
	streaming.warm = []*warmRsync{older, exitedWarm(t)}
	for i, j := range d.jobs[1 : warmMax-1] {
		j.listed = now.Add(-time.Duration(i+1) * time.Second)
		j.warm = []*warmRsync{exitedWarm(t)}
	}
	without.listed = now.Add(-time.Hour)
	d.warmWaiting = warmMax
	d.keepWarm()
	if len(streaming.warm) != 1 || streaming.warm[0] != older || d.warmRetiring != 1 || without.warmStarting != 1 || d.warmWaiting+d.warmStarting != warmMax {
		t.Errorf("at warmMax: the streaming job holds %d (the older kept: %v), %d retiring, %d started for the job with none, %d warm in all; want its newer one retired for the other job's first, %d in all",
			len(streaming.warm), len(streaming.warm) > 0 && streaming.warm[0] == older, d.warmRetiring, without.warmStarting, d.warmWaiting+d.warmStarting, warmMax)
	}
	for range d.warmRetiring {
		select {
		case <-d.warmRetired:
		case <-time.After(10 * time.Second):
			t.Fatal("the retired warm rsync did not report its exit")
		}
	}
}

// exitedWarm is a stand-in warm rsync that retire can end: a process that
// exits at once, whose output has been read.
func exitedWarm(t *testing.T) *warmRsync {
	t.Helper()
	cmd := exec.Command("true")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Reaped at the end, unless retire has: other tests count children.
	t.Cleanup(func() { _ = cmd.Wait() })
	out, err := unlinkedTemp()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	close(read)
	return &warmRsync{cmd: cmd, stdin: stdin, out: out, read: read, transferred: make(chan struct{})}
}

// TestDispatchWarmTransferredOverlaps: once a warm rsync says its transfer is
// complete, the same path may go again while it exits. The wrapper keeps
// each rsync's process alive 30 s after rsync is done; the second version
// of the file must still land while the first run goes on.
func TestDispatchWarmTransferredOverlaps(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	wrap := lingeringRsync(t, dir, src, rs, "exec sleep 30")
	// Every version has its own size: rsync's quick check compares size
	// and mtime, and a kernel with coarse timestamps can give two quick
	// writes the same mtime.
	version := func(i int) string { return strings.Repeat(fmt.Sprint(i), i+1) }
	write(t, filepath.Join(src, "a"), version(0))
	if out, err := exec.Command(rs, "-a", src+"/", dst).CombinedOutput(); err != nil {
		t.Fatalf("rsync: %v\n%s", err, out)
	}
	var logs testutil.LockedBuffer
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{
			Jobs: []Job{{Path: src + "/", Dest: dst, Settings: Settings{Rsync: wrap, Bwlimit: "0"}}},
			Warm: true, StopTimeout: time.Second, Logger: zerolog.New(&logs),
		})
	}()
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { close(in); <-done }) } // the lingering runs are killed after StopTimeout
	t.Cleanup(stop)
	for i := 1; i <= 2; i++ {
		// i processes in the source: the waiting warm one, and the first
		// run lingering.
		testutil.Eventually(t, 10*time.Second, "a warm rsync in "+src, func() bool { return childrenIn(src) == i })
		v := version(i)
		write(t, filepath.Join(src, "a"), v)
		in <- Work{Paths: []string{"a"}}
		testutil.Eventually(t, 10*time.Second, "a = "+v, func() bool {
			b, err := os.ReadFile(filepath.Join(dst, "a"))
			return err == nil && string(b) == v
		})
	}
	if n := strings.Count(logs.String(), `"message":"rsync"`); n != 0 {
		t.Errorf("%d runs ended before the second version transferred; want none (each lingers 30 s)", n)
	}
	stop()
	if strings.Contains(logs.String(), transferredMarker) {
		t.Errorf("the marker went to the log:\n%s", logs.String())
	}
}

// The kill after StopTimeout reaches the rsync client only. A process it
// leaves behind (here the wrapper's sleep; in life a receiver stuck on a
// hung disk) keeps the warm run's stdout pipe open, and must not keep
// Dispatch from returning.
func TestDispatchWarmStopNotHeldByPipe(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	wrap := lingeringRsync(t, dir, src, rs, "sleep 60") // no exec: the kill reaches the shell, not its sleep
	write(t, filepath.Join(src, "a"), "one")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	in := make(chan Work)
	done := make(chan error, 1)
	go func() {
		done <- Dispatch(in, Options{
			Jobs: []Job{{Path: src + "/", Dest: dst, Settings: Settings{Rsync: wrap, Bwlimit: "0"}}},
			Warm: true, StopTimeout: 200 * time.Millisecond, Logger: zerolog.Nop(),
		})
	}()
	testutil.Eventually(t, 10*time.Second, "a warm rsync in "+src, func() bool { return childrenIn(src) == 1 })
	in <- Work{Paths: []string{"a"}}
	testutil.Eventually(t, 10*time.Second, "a on the target", func() bool {
		b, err := os.ReadFile(filepath.Join(dst, "a"))
		return err == nil && string(b) == "one"
	})
	close(in)
	select {
	case <-done: // an error is expected: the runs were killed
	case <-time.After(20 * time.Second): // the sleeps hold the pipes for 60 s
		t.Fatal("Dispatch still waiting 20 s after its input closed (StopTimeout 200 ms)")
	}
}

// lingeringRsync writes dir/rsync, a wrapper that enters src (so that
// childrenIn counts it), runs rs, and then runs the shell command after.
func lingeringRsync(t *testing.T, dir, src, rs, after string) string {
	t.Helper()
	wrap := filepath.Join(dir, "rsync")
	body := fmt.Sprintf("#!/bin/sh\ncd %q || exit 1\n%s \"$@\" || exit $?\n%s\n", src, rs, after)
	if err := os.WriteFile(wrap, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrap
}

// childrenIn counts this process's children whose working directory is dir.
func childrenIn(dir string) int {
	n := 0
	for _, c := range children() {
		if cwd, err := os.Readlink("/proc/" + c + "/cwd"); err == nil && cwd == dir {
			n++
		}
	}
	return n
}

// warmWaiting lists this process's warm rsyncs (those run with
// transferredOption) that wait for their lists on standard input; a child
// that is a wrapper counts when the rsync it runs waits.
func warmWaiting() []string {
	var out []string
	for _, c := range children() {
		b, _ := os.ReadFile("/proc/" + c + "/task/" + c + "/children")
		for _, p := range append([]string{c}, strings.Fields(string(b))...) {
			cmdline, _ := os.ReadFile("/proc/" + p + "/cmdline")
			wchan, _ := os.ReadFile("/proc/" + p + "/wchan")
			if bytes.Contains(cmdline, []byte(transferredOption+"\x00")) && strings.Contains(string(wchan), "poll") {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// children lists this process's child pids.
func children() []string {
	var out []string
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

// TestDispatchWarmRootReplaced: a warm rsync started before the watched
// directory was replaced (a deploy by rename) copies from the new one: it
// enters the directory the path leads to when it reads its list.
func TestDispatchWarmRootReplaced(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "a"), "old")
	in, done, _ := startWarmDispatch(t, src, dst, 0)
	testutil.Eventually(t, 10*time.Second, "the warm rsync", func() bool { return len(children()) == 1 })
	replaceSourceAndSync(t, dir, src, dst, in, done)
}

// canOverlap: a small transferred run no longer holds up its own paths nor
// counts against the limit (it is only exiting; MaxProcs still counts its
// process), but a big one still holds up everything (in a burst, runs stay
// few and large).
func TestCanOverlapTransferred(t *testing.T) {
	many := make([]string, overlapMax+1)
	for i := range many {
		many[i] = fmt.Sprintf("d/f%03d", i)
	}
	for _, tc := range []struct {
		name  string
		runs  []running
		limit int
		want  bool
	}{
		{"running small run with the same path", []running{{paths: []string{"a"}}}, 2, false},
		{"transferred small run with the same path", []running{{paths: []string{"a"}, transferred: true}}, 2, true},
		{"transferred run of a parent directory", []running{{paths: []string{"x/", "y"}, transferred: true}}, 2, true},
		{"transferred big run", []running{{paths: append([]string{"a"}, many...), transferred: true}}, 2, false},
		{"transferred run at the limit", []running{{paths: []string{"b"}, transferred: true}}, 1, true},
		{"running run at the limit", []running{{paths: []string{"b"}}}, 1, false},
		{"transferred and running runs at the limit", []running{{paths: []string{"b"}, transferred: true}, {paths: []string{"c"}}}, 1, false},
		{"two exiting runs at the limit", []running{{paths: []string{"b"}, transferred: true}, {paths: []string{"c"}, transferred: true}}, 1, true},
		{"disjoint running run", []running{{paths: []string{"b"}}}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &jobState{pending: map[string]struct{}{"a": {}, "x/z": {}}, runs: map[int]running{}}
			for i, r := range tc.runs {
				j.runs[i] = r
			}
			if got := j.canOverlap(tc.limit); got != tc.want {
				t.Errorf("canOverlap = %v, want %v", got, tc.want)
			}
		})
	}
}

// Every rsync, cold or warm, starts in the daemon's working directory, so
// a relative path in its arguments resolves where the daemon was started:
// here rsync's own log file, which the client writes.
func TestDispatchRelativeExtraPath(t *testing.T) {
	rs := testutil.NeedRsync(t)
	for _, warm := range []bool{false, true} {
		t.Run(fmt.Sprintf("warm rsync %v", warm), func(t *testing.T) {
			dir := t.TempDir()
			src, dst, start := filepath.Join(dir, "src"), filepath.Join(dir, "dst"), filepath.Join(dir, "start")
			write(t, filepath.Join(src, "keep"), "1")
			if err := os.Mkdir(start, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Chdir(start)
			var logs testutil.LockedBuffer
			in := make(chan Work)
			done := make(chan error, 1)
			closeIn := sync.OnceFunc(func() { close(in) })
			t.Cleanup(func() { closeIn(); <-done })
			go func() {
				done <- Dispatch(in, Options{
					Jobs:    []Job{{Path: src + "/", Node: "", Dest: dst + "/", Settings: Settings{Rsync: rs, Bwlimit: "0", Extra: []string{"--log-file=extra.log"}}}},
					Initial: true,
					Warm:    warm,
					Logger:  zerolog.New(&logs),
				})
			}()
			testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return snapshot(dst) == "keep:1\n" })
			testutil.Eventually(t, 10*time.Second, "the initial run's end", func() bool { return strings.Contains(logs.String(), `"full":true`) })
			if warm {
				testutil.Eventually(t, 10*time.Second, "a warm rsync", func() bool { return len(warmWaiting()) == 1 })
			}
			write(t, filepath.Join(src, "new"), "2")
			in <- Work{Paths: []string{"new"}}
			testutil.Eventually(t, 10*time.Second, "the listed run", func() bool { return snapshot(dst) == "keep:1\nnew:2\n" })
			closeIn()
			err := <-done
			done <- err // for the cleanup
			if err != nil {
				t.Fatalf("%v\n%s", err, logs.String())
			}
			if warm && !strings.Contains(logs.String(), `"warm":true`) {
				t.Errorf("the listed run did not go to the warm rsync:\n%s", logs.String())
			}
			b, err := os.ReadFile(filepath.Join(start, "extra.log"))
			if err != nil || !strings.Contains(string(b), "new") {
				t.Errorf("rsync's log in the start-up directory: %v\n%s", err, b)
			}
		})
	}
}

// The dispatcher never waits for a process: while a warm rsync that is
// being retired takes its time to exit, other work is dispatched at once.
// The wrapper's warm rsyncs (those run with transferredOption) linger after
// rsync exits until a release file exists; a reload retires the warm
// rsyncs, which were started with the settings it replaces. (They also stop
// lingering once the test's directory is gone, so that none outlives a
// failed test.)
func TestDispatchNotHeldByRetiringWarm(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	release := filepath.Join(dir, "release")
	wrap := filepath.Join(dir, "rsync")
	body := fmt.Sprintf(`#!/bin/sh
%s "$@"; rc=$?
case " $* " in *" %s "*) while [ ! -e %q ] && [ -d %q ]; do sleep 0.05; done;; esac
exit $rc
`, rs, transferredOption, release, dir)
	if err := os.WriteFile(wrap, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(release, nil, 0o644) }) // on a failure too
	var jobs []Job
	var srcs, dsts []string
	for i := range 2 {
		src, dst := filepath.Join(dir, fmt.Sprintf("src%d", i))+"/", filepath.Join(dir, fmt.Sprintf("dst%d", i))+"/"
		write(t, filepath.Join(src, "f0"), "0")
		srcs, dsts = append(srcs, src), append(dsts, dst)
		jobs = append(jobs, Job{Tree: i, Path: src, Node: "", Dest: dst, Settings: Settings{Rsync: wrap, Bwlimit: "0"}})
	}
	var logs testutil.LockedBuffer
	in, ctl, done := controlled(t, Options{Jobs: jobs, Initial: true, Warm: true, MaxProcs: 10, Logger: zerolog.New(&logs)})
	for i := range 2 {
		testutil.Eventually(t, 10*time.Second, "the initial sync of "+srcs[i], func() bool { return snapshot(dsts[i]) == "f0:0\n" })
	}
	testutil.Eventually(t, 10*time.Second, "the initial runs' ends", func() bool { return strings.Count(logs.String(), `"full":true`) == 2 })
	testutil.Eventually(t, 10*time.Second, "a warm rsync for each tree", func() bool { return len(warmWaiting()) == 2 })
	// A reload that changes their command line retires both; they linger
	// until the release.
	for i := range jobs {
		jobs[i].Settings.Bwlimit = "100000"
	}
	reply := make(chan struct{})
	ctl <- Reconfigure{Jobs: jobs, MaxProcs: 10, Reply: reply}
	<-reply
	write(t, filepath.Join(srcs[0], "a"), "1")
	in <- Work{Tree: 0, Paths: []string{"a"}}
	testutil.Eventually(t, 10*time.Second, "tree 0's change", func() bool { return snapshot(dsts[0]) == "a:1\nf0:0\n" })
	write(t, filepath.Join(srcs[1], "b"), "2")
	in <- Work{Tree: 1, Paths: []string{"b"}}
	testutil.Eventually(t, 10*time.Second, "tree 1's change while tree 0's warm rsync retires", func() bool { return snapshot(dsts[1]) == "b:2\nf0:0\n" })
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
}

// replaceSourceAndSync replaces src (in dir) by a new directory whose a is
// "new", as a deploy by rename does, hands a change of a to the dispatcher
// and checks that the new a arrives at dst; then it stops the dispatcher.
func replaceSourceAndSync(t *testing.T, dir, src, dst string, in chan<- Work, done <-chan error) {
	t.Helper()
	if err := os.Rename(src, filepath.Join(dir, "old")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(src, "a"), "new")
	in <- Work{Paths: []string{"a"}}
	testutil.Eventually(t, 10*time.Second, "the new a", func() bool {
		b, err := os.ReadFile(filepath.Join(dst, "a"))
		return err == nil && string(b) == "new"
	})
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The jobs take turns for the process slots: a job with more work does not
// keep the slot that another job's change waits for.
func TestStartReadyTakesTurns(t *testing.T) {
	jobs := []Job{{Tree: 0, Path: "/a/", Dest: "/x/", Settings: Settings{Rsync: "/bin/false", Bwlimit: "0"}},
		{Tree: 1, Path: "/b/", Dest: "/y/", Settings: Settings{Rsync: "/bin/false", Bwlimit: "0"}}}
	d := newDispatcher(Options{Jobs: jobs, Pretend: true, MaxProcs: 1, Logger: zerolog.Nop()})
	d.merge(d.jobs[0], []string{"a1"}, false, false, time.Now())
	d.merge(d.jobs[1], []string{"b1"}, false, false, time.Now())
	var order []int
	for range 4 {
		d.startReady()
		r := <-d.results
		order = append(order, r.job.Tree)
		d.finish(r, false)
		d.merge(r.job, []string{fmt.Sprintf("again%d", len(order))}, false, false, time.Now()) // always more work
	}
	if want := []int{0, 1, 0, 1}; !slices.Equal(order, want) {
		t.Errorf("jobs ran in the order %v, want %v", order, want)
	}
}

// A long list goes to a cold rsync, which reads the shorter names (see
// WaitingListArgv); the warm rsync waits for a short one.
func TestDispatchLongListCold(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "a"), "0")
	in, done, logs := startWarmDispatch(t, src, dst, 0)
	testutil.Eventually(t, 10*time.Second, "a warm rsync", func() bool { return len(warmWaiting()) == 1 })
	var paths []string
	for i := range warmListMax + 1 {
		p := fmt.Sprintf("f%03d", i)
		write(t, filepath.Join(src, p), "1")
		paths = append(paths, p)
	}
	in <- Work{Paths: paths}
	testutil.Eventually(t, 10*time.Second, "the long list's run", func() bool {
		return strings.Contains(logs.String(), fmt.Sprintf(`"files":%d,"full":false,"warm":false`, len(paths)))
	})
	write(t, filepath.Join(src, "a"), "2")
	in <- Work{Paths: []string{"a"}}
	testutil.Eventually(t, 10*time.Second, "the short list's warm run", func() bool {
		return strings.Contains(logs.String(), `"files":1,"full":false,"warm":true`)
	})
	endDispatch(t, in, done)
}

// TestDispatchWarmBounded: with many local jobs, at most warmMax warm
// rsyncs wait, and a job that runs a list takes one from the job that
// listed least recently.
func TestDispatchWarmBounded(t *testing.T) {
	rs := testutil.NeedRsync(t)
	const n = warmMax + 4
	dir := t.TempDir()
	src := filepath.Join(dir, "src") + "/"
	write(t, filepath.Join(src, "f0"), "0")
	// The wrapper counts the warm rsyncs started (run with transferredOption).
	wrap, starts := filepath.Join(dir, "rsync"), filepath.Join(dir, "starts")
	write(t, wrap, fmt.Sprintf("#!/bin/sh\ncase \" $* \" in *\" %s \"*) echo >>%q;; esac\nexec %s \"$@\"\n", transferredOption, starts, rs))
	if err := os.Chmod(wrap, 0o755); err != nil {
		t.Fatal(err)
	}
	warmStarts := func() int {
		b, _ := os.ReadFile(starts)
		return bytes.Count(b, []byte("\n"))
	}
	var jobs []Job
	var dsts []string
	for i := range n {
		dst := filepath.Join(dir, fmt.Sprintf("dst%02d", i))
		dsts = append(dsts, dst)
		jobs = append(jobs, Job{Tree: i, Path: src, Node: dst, Dest: dst, Settings: Settings{Rsync: wrap, Bwlimit: "0"}})
	}
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{Jobs: jobs, Initial: true, Warm: true, Logger: zerolog.Nop()})
	}()
	for _, dst := range dsts {
		testutil.Eventually(t, 20*time.Second, "the initial run to "+dst, func() bool { return snapshot(dst) == snapshot(src) })
	}
	// holders lists the destinations of the waiting warm rsyncs.
	holders := func() []string {
		var out []string
		for _, pid := range warmWaiting() {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			for _, dst := range dsts {
				if bytes.Contains(cmdline, []byte(dst)) {
					out = append(out, filepath.Base(dst))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	testutil.Eventually(t, 10*time.Second, fmt.Sprintf("%d warm rsyncs waiting", warmMax), func() bool { return len(holders()) == warmMax })
	last := filepath.Base(dsts[n-1])
	if slices.Contains(holders(), last) {
		t.Fatalf("%s holds a warm rsync before it listed anything: %v", last, holders())
	}
	// Each list run of the last job starts one warm rsync: the first run
	// takes another job's place, the others replace the one they used.
	before := warmStarts()
	const runs = 4
	for i := 1; i <= runs; i++ {
		name := fmt.Sprintf("f%d", i)
		write(t, filepath.Join(src, name), name)
		in <- Work{Tree: n - 1, Paths: []string{name}}
		testutil.Eventually(t, 10*time.Second, fmt.Sprintf("run %d: %s holding a warm rsync, and %d waiting", i, last, warmMax), func() bool {
			h := holders()
			return snapshot(dsts[n-1]) == snapshot(src) && slices.Contains(h, last) && len(h) == warmMax && warmStarts() >= before+i
		})
	}
	if got := warmStarts() - before; got != runs {
		t.Errorf("%d list runs started %d warm rsyncs, want %d", runs, got, runs)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Beside a full run, pending paths go however many they are; beside a
// list run, a big pending set waits (bursts stay few large runs).
func TestCanOverlapBesideFullRun(t *testing.T) {
	pending := map[string]struct{}{}
	for i := range overlapMax + 100 {
		pending[fmt.Sprintf("d/f%03d", i)] = struct{}{}
	}
	beside := func(r running) bool {
		j := &jobState{pending: pending, runs: map[int]running{0: r}}
		return j.canOverlap(2)
	}
	if !beside(running{full: true}) {
		t.Error("a big pending set waits for the full run")
	}
	if beside(running{paths: []string{"e"}}) {
		t.Error("a big pending set starts beside a list run")
	}
}

// TestEarliest: the earlier of two times, a zero one counting as none.
func TestEarliest(t *testing.T) {
	t0 := time.Unix(100, 0)
	t1 := t0.Add(time.Second)
	for _, c := range []struct{ a, b, want time.Time }{
		{time.Time{}, time.Time{}, time.Time{}},
		{t0, time.Time{}, t0},
		{time.Time{}, t1, t1},
		{t0, t1, t0},
		{t1, t0, t0},
	} {
		if got := earliest(c.a, c.b); !got.Equal(c.want) {
			t.Errorf("earliest(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestDispatchPerDirFiltersWholeRuns: a job whose options read
// per-directory filter files (-F) syncs its changes by walks of the whole
// tree, in which rsync applies the files' rules as written (a run for a
// list skips the root's file and, with --from0, reads each file as one
// rule); it deletes as full syncs do (with delete = "running" not at all,
// which would delete the target's own files too), and starts no warm
// rsync.
func TestDispatchPerDirFiltersWholeRuns(t *testing.T) {
	rs := testutil.NeedRsync(t)
	for name, mode := range map[string]DeleteMode{"delete always": DeleteAlways, "delete running": DeleteRunning} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
			write(t, filepath.Join(src, ".rsync-filter"), "- *.log\n- *.tmp\nP keep/\n")
			write(t, filepath.Join(src, "sub/.rsync-filter"), "- *.bak\n")
			write(t, filepath.Join(src, "gone.txt"), "1")
			write(t, filepath.Join(dst, "keep/x"), "on the node only")
			// The node has the filter file already (a mirror synced
			// before): rsync reads the receiver's copy when it deletes.
			write(t, filepath.Join(dst, ".rsync-filter"), "- *.log\n- *.tmp\nP keep/\n")
			var logs testutil.LockedBuffer
			in := make(chan Work)
			done := make(chan error)
			go func() {
				done <- Dispatch(in, Options{
					Jobs:    []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0", Extra: []string{"-F"}, Delete: mode}}},
					Initial: true, Warm: true, Logger: zerolog.New(&logs),
				})
			}()
			testutil.Eventually(t, 10*time.Second, "the initial run's end", func() bool { return strings.Contains(logs.String(), `"full":true`) })
			for _, f := range []string{"a.log", "a.txt", "sub/b.log", "sub/b.bak", "sub/b.txt", "sub/deep/c.bak", "sub/deep/c.txt"} {
				write(t, filepath.Join(src, f), "2")
			}
			if err := os.Remove(filepath.Join(src, "gone.txt")); err != nil {
				t.Fatal(err)
			}
			in <- Work{Paths: []string{"a.log", "a.txt", "gone.txt", "sub/"}}
			testutil.Eventually(t, 10*time.Second, "the changes' run", func() bool { return strings.Contains(logs.String(), `"whole":true`) })
			close(in)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got := snapshot(dst)
			for _, f := range []string{"a.txt:2", "sub/b.txt:2", "sub/deep/c.txt:2", "keep/x:on the node only"} {
				if !strings.Contains(got, f+"\n") {
					t.Errorf("the node lacks %s:\n%s", f, got)
				}
			}
			for _, f := range []string{"a.log", "sub/b.log", "sub/b.bak", "sub/deep/c.bak"} {
				if strings.Contains(got, f+":") {
					t.Errorf("the node holds %s, which a filter file excludes:\n%s", f, got)
				}
			}
			if gone := strings.Contains(got, "gone.txt:"); gone != (mode != DeleteAlways) {
				t.Errorf("delete mode %v: gone.txt on the node %v:\n%s", mode, gone, got)
			}
			if !regexp.MustCompile(`"files":4,"full":false,[^\n]*"warm":false,"whole":true`).MatchString(logs.String()) {
				t.Errorf("no run for the 4 changed paths logged:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), `"warm":true`) || strings.Contains(logs.String(), "files-from") {
				t.Errorf("a run for a list, or a warm rsync:\n%s", logs.String())
			}
		})
	}
}

// TestDispatchExtraExcludeWholeRuns: a rule in extra that leaves out a
// directory leaves out a changed file below it too: the job's changes go
// in walks of the whole tree, where rsync never enters the directory (a
// run for a list would name the file itself, which no rule leaves out).
func TestDispatchExtraExcludeWholeRuns(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	rules := filepath.Join(dir, "excl.lst")
	write(t, rules, "cache/\n")
	var logs testutil.LockedBuffer
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{
			Jobs:    []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0", Extra: []string{"--exclude-from=" + rules}}}},
			Initial: true, Warm: true, Logger: zerolog.New(&logs),
		})
	}()
	testutil.Eventually(t, 10*time.Second, "the initial run's end", func() bool { return strings.Contains(logs.String(), `"full":true`) })
	write(t, filepath.Join(src, "d/cache/new.dat"), "2")
	write(t, filepath.Join(src, "d/ok.txt"), "2")
	in <- Work{Paths: []string{"d/cache/new.dat", "d/ok.txt"}}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, want := snapshot(dst), "d/\nd/ok.txt:2\nf:1\n"; got != want {
		t.Errorf("the node holds\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(logs.String(), `"whole":true`) {
		t.Errorf("the changes were not synced by a walk of the whole tree:\n%s", logs.String())
	}
}
