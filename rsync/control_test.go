package rsync

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

// controlled runs Dispatch with a Control channel; it returns the work
// and control channels and the result of Dispatch.
func controlled(t *testing.T, o Options) (chan<- Work, chan<- Request, <-chan error) {
	t.Helper()
	in := make(chan Work)
	ctl := make(chan Request)
	done := make(chan error, 1)
	o.Control = ctl
	go func() { done <- Dispatch(in, o) }()
	return in, ctl, done
}

// endDispatch closes the work channel and fails the test if Dispatch
// reports changes left unsynced.
func endDispatch(t *testing.T, in chan<- Work, done <-chan error) {
	t.Helper()
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// askStatus returns the dispatcher's status.
func askStatus(ctl chan<- Request) Status {
	reply := make(chan Status, 1)
	ctl <- StatusRequest{Reply: reply}
	return <-reply
}

// jobOf returns the status of the job to dest.
func jobOf(t *testing.T, s Status, dest string) JobStatus {
	t.Helper()
	for _, j := range s.Jobs {
		if j.Dest == dest {
			return j
		}
	}
	t.Fatalf("no job to %s in the status %+v", dest, s)
	return JobStatus{}
}

// A failing node shows as failing, with rsync's last line, its failure
// count and an oldest pending change that stays put; once it works again
// it is in sync, with the runs and failures counted.
func TestStatusFailingThenInSync(t *testing.T) {
	rs := testutil.NeedRsync(t)
	_, src, dst := sourceWithFile(t)
	// Fails its first 3 runs; the third retry comes after 3 × 150 ms.
	o := Options{Jobs: []Job{{Path: src, Node: "web2:", Dest: dst, Settings: Settings{Rsync: flaky(t, rs, 3), Bwlimit: "0"}}}, Initial: true, Logger: zerolog.Nop()}
	o.Backoff.Min, o.Backoff.Max = 150*time.Millisecond, 150*time.Millisecond
	in, ctl, done := controlled(t, o)
	var first JobStatus
	testutil.Eventually(t, 10*time.Second, "the job failing twice", func() bool {
		first = jobOf(t, askStatus(ctl), dst)
		return first.Failures >= 2
	})
	if first.State != StateFailing || first.LastExit != 12 || first.LastError != "rsync: connection unexpectedly closed" ||
		first.Oldest.IsZero() || first.FailingSince.IsZero() || !first.Full || first.Node != "web2:" {
		t.Errorf("status while failing = %+v", first)
	}
	var last JobStatus
	testutil.Eventually(t, 10*time.Second, "the job in sync", func() bool {
		last = jobOf(t, askStatus(ctl), dst)
		return last.State == StateInSync
	})
	if last.Failures != 0 || last.Runs != 4 || last.Failed != 3 || last.LastSuccess.IsZero() || !last.Oldest.IsZero() || !last.FailingSince.IsZero() {
		t.Errorf("status once in sync = %+v", last)
	}
	var n uint64
	for _, c := range last.Durations {
		n += c
	}
	if n != 4 || last.DurationSum <= 0 {
		t.Errorf("durations %v (sum %v) count %d runs, want 4", last.Durations, last.DurationSum, n)
	}
	endDispatch(t, in, done)
}

// A resync request repairs a file changed on the target, and a local
// node is named "(local)".
func TestResyncRepairsTarget(t *testing.T) {
	rs := testutil.NeedRsync(t)
	_, src, dst := sourceWithFile(t)
	in, ctl, done := controlled(t, Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.Nop()})
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return jobOf(t, askStatus(ctl), dst).State == StateInSync })
	// Another size, so that rsync's quick check sees it.
	write(t, filepath.Join(dst, "f"), "changed on the target")
	reply := make(chan int, 1)
	ctl <- ResyncRequest{Reply: reply}
	if n := <-reply; n != 1 {
		t.Errorf("resync reached %d jobs, want 1", n)
	}
	testutil.Eventually(t, 10*time.Second, "f repaired", func() bool { return snapshot(dst) == "f:1\n" })
	if s := jobOf(t, askStatus(ctl), dst); s.Node != "(local)" {
		t.Errorf("local node shown as %q", s.Node)
	}
	endDispatch(t, in, done)
}

// A reload keeps what a job has pending and gives it its new settings
// from its next run; a new job gets its initial sync; a removed one has
// its pending changes dropped, and said so.
func TestReconfigureKeepsAddsRemoves(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, src2 := filepath.Join(dir, "src")+"/", filepath.Join(dir, "src2")+"/"
	kept, gone, added := filepath.Join(dir, "kept"), filepath.Join(dir, "gone"), filepath.Join(dir, "added")
	write(t, filepath.Join(src, "f"), "1")
	write(t, filepath.Join(src2, "g"), "2")
	// The broken rsync notes each run's destination (its last argument).
	broken, calls := filepath.Join(dir, "broken"), filepath.Join(dir, "calls")
	script := "#!/bin/sh\nfor a; do last=$a; done\necho \"$last\" >> " + calls + "\necho 'rsync: connection refused' >&2\nexit 255\n"
	if err := os.WriteFile(broken, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs testutil.LockedBuffer
	o := Options{
		Jobs: []Job{
			{Tree: 0, Path: src, Node: "a:", Dest: kept, Settings: Settings{Rsync: broken, Bwlimit: "0"}},
			{Tree: 0, Path: src, Node: "b:", Dest: gone, Settings: Settings{Rsync: broken, Bwlimit: "0"}},
		},
		Initial: true, Logger: zerolog.New(&logs),
	}
	o.Backoff.Min, o.Backoff.Max = 300*time.Millisecond, 300*time.Millisecond
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "both jobs failing", func() bool {
		s := askStatus(ctl)
		return jobOf(t, s, kept).Failures > 0 && jobOf(t, s, gone).Failures > 0
	})
	reply := make(chan struct{})
	ctl <- Reconfigure{
		Jobs: []Job{
			{Tree: 0, Path: src, Node: "a:", Dest: kept, Settings: Settings{Rsync: rs, Bwlimit: "0"}},
			{Tree: 1, Path: src2, Dest: added, Settings: Settings{Rsync: rs, Bwlimit: "0"}},
		},
		Reply: reply,
	}
	<-reply
	s := askStatus(ctl)
	if len(s.Jobs) != 2 || !jobOf(t, s, kept).Full {
		t.Errorf("after the reload: %+v, want the kept job still holding its full sync and the added one", s.Jobs)
	}
	testutil.Eventually(t, 10*time.Second, "the kept and added trees synced with the new settings", func() bool {
		return snapshot(kept) == "f:1\n" && snapshot(added) == "g:2\n"
	})
	if !strings.Contains(logs.String(), `"node":"b:"`) || !strings.Contains(logs.String(), "pending changes are dropped") {
		t.Errorf("the removed job's dropped changes are not logged:\n%s", logs.String())
	}
	// The removed job never runs again: a resync of everything that the
	// kept job has finished does not reach it.
	goneRuns := func() int {
		b, _ := os.ReadFile(calls)
		return strings.Count(string(b), gone)
	}
	before, keptRuns := goneRuns(), jobOf(t, askStatus(ctl), kept).Runs
	ctl <- ResyncRequest{}
	testutil.Eventually(t, 10*time.Second, "the kept job's resync", func() bool {
		j := jobOf(t, askStatus(ctl), kept)
		return j.Runs > keptRuns && j.State == StateInSync
	})
	if n := goneRuns(); n != before || before == 0 {
		t.Errorf("the removed job ran %d times before the reload and %d after the resync, want no run after", before, n-before)
	}
	endDispatch(t, in, done)
}

// A full rescan logs what rsync says it transferred and deleted.
func TestRescanLogsTransfer(t *testing.T) {
	rs := testutil.NeedRsync(t)
	_, src, dst := sourceWithFile(t)
	var logs testutil.LockedBuffer
	in, ctl, done := controlled(t, Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.New(&logs)})
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return jobOf(t, askStatus(ctl), dst).State == StateInSync })
	write(t, filepath.Join(dst, "f"), "changed")
	write(t, filepath.Join(dst, "extra"), "only on the target")
	ctl <- ResyncRequest{}
	testutil.Eventually(t, 10*time.Second, "the rescan's log line", func() bool {
		return strings.Contains(logs.String(), `"full":true,"transferred":1,"deleted":1,"bytes":1`)
	})
	endDispatch(t, in, done)
}

// A run that goes on across the reload that removes its job is booked: its
// failure is logged once and not retried.
func TestRemovedJobRunEnds(t *testing.T) {
	dir, src, dst := sourceWithFile(t)
	release, calls := filepath.Join(dir, "release"), filepath.Join(dir, "calls")
	held := filepath.Join(dir, "rsync")
	script := "#!/bin/sh\necho run >> " + calls + "\nwhile [ ! -e " + release + " ] && [ -d " + dir + " ]; do sleep 0.05; done\necho 'rsync: connection refused' >&2\nexit 255\n"
	if err := os.WriteFile(held, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs testutil.LockedBuffer
	o := Options{Jobs: []Job{{Path: src, Node: "b:", Dest: dst, Settings: Settings{Rsync: held, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.New(&logs)}
	o.Backoff.Min, o.Backoff.Max = 10*time.Millisecond, 10*time.Millisecond
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the run under way", func() bool { return jobOf(t, askStatus(ctl), dst).Running == 1 })
	reply := make(chan struct{})
	ctl <- Reconfigure{Reply: reply}
	<-reply
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the removed job's failure logged", func() bool {
		return strings.Contains(logs.String(), "removed by a reload failed; not retried")
	})
	endDispatch(t, in, done)
	if b, _ := os.ReadFile(calls); strings.Count(string(b), "run") != 1 {
		t.Errorf("the removed job ran %d times, want once (no retry)", strings.Count(string(b), "run"))
	}
	if strings.Contains(logs.String(), "will retry") {
		t.Errorf("the removed job's failure was handled as a retry:\n%s", logs.String())
	}
}

// A reload keeps the warm rsync of a job whose command line it does not
// change (and its generation, so that one being started is kept too); a
// change of the command line retires it.
func TestReconfigureKeepsWarmOfUnchangedJob(t *testing.T) {
	j := Job{Path: "/src/", Dest: "/dst/", Settings: Settings{Rsync: "/usr/bin/rsync", Bwlimit: "0"}}
	d := newDispatcher(Options{Jobs: []Job{j}, Logger: zerolog.Nop()})
	w := &warmRsync{}
	d.jobs[0].warm, d.warmWaiting = []*warmRsync{w}, 1
	j.After = &AfterCommand{Argv: []string{"/bin/true"}} // not on rsync's command line
	Reconfigure{Jobs: []Job{j}}.handle(d)
	if len(d.jobs[0].warm) != 1 || d.jobs[0].warm[0] != w || d.warmWaiting != 1 || d.jobs[0].gen != 0 || d.jobs[0].After == nil {
		t.Errorf("after a reload with the same command line: warm %p (want %p), %d warm, gen %d, after %v", d.jobs[0].warm, w, d.warmWaiting, d.jobs[0].gen, d.jobs[0].After)
	}
	d.jobs[0].warm, d.warmWaiting = nil, 0 // a retired warm rsync needs a real process; the gen shows the retirement
	j.Settings.Bwlimit = "100"
	Reconfigure{Jobs: []Job{j}}.handle(d)
	if d.jobs[0].gen != 1 {
		t.Errorf("after a reload that changes the command line: gen %d, want 1", d.jobs[0].gen)
	}
}

// A (tree, node) that a reload removes while its run goes on, and that a
// later reload adds back, waits for that run before its own: two rsyncs
// never write to one target at once.
func TestReaddedJobWaitsForRemovedRun(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	release := filepath.Join(dir, "release")
	// The wrapper notes an overlap, and holds each run until released.
	wrap := filepath.Join(dir, "rsync")
	write(t, wrap, fmt.Sprintf(`#!/bin/sh
mkdir %[1]q 2>/dev/null || touch %[2]q
while [ ! -e %[3]q ] && [ -d %[5]q ]; do sleep 0.02; done
%[4]s "$@"; rc=$?
rmdir %[1]q
exit $rc
`, filepath.Join(dir, "busy"), filepath.Join(dir, "overlap"), release, rs, dir))
	must(t, os.Chmod(wrap, 0o755))
	job := Job{Path: src, Dest: dst, Settings: Settings{Rsync: wrap, Bwlimit: "0"}}
	logs := &testutil.LockedBuffer{}
	in, ctl, done := controlled(t, Options{Jobs: []Job{job}, Initial: true, Logger: zerolog.New(logs)})
	testutil.Eventually(t, 10*time.Second, "the initial run going", func() bool {
		_, err := os.Stat(filepath.Join(dir, "busy"))
		return err == nil
	})
	reloadAway(ctl, job)
	must(t, os.WriteFile(release, nil, 0o644))
	testutil.Eventually(t, 20*time.Second, "both runs done", func() bool {
		return strings.Count(logs.String(), `"message":"rsync"`) == 2
	})
	if _, err := os.Stat(filepath.Join(dir, "overlap")); err == nil {
		t.Errorf("the job added back ran beside the removed one:\n%s", logs.String())
	}
	endDispatch(t, in, done)
}

// reloadAway removes job by a reload and adds it back by another, with
// its initial sync.
func reloadAway(ctl chan<- Request, job Job) {
	for _, jobs := range [][]Job{nil, {job}} {
		reply := make(chan struct{})
		ctl <- Reconfigure{Jobs: jobs, Initial: []int{job.Tree}, Reply: reply}
		<-reply
	}
}

// Likewise, the after command of a (tree, node) added back waits for the
// one of the removed job that is still running.
func TestReaddedJobWaitsForRemovedAfter(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	log, release := filepath.Join(dir, "after.log"), filepath.Join(dir, "release")
	busy, overlap := filepath.Join(dir, "busy"), filepath.Join(dir, "overlap")
	body := `mkdir ` + busy + ` 2>/dev/null || touch ` + overlap + `
while [ ! -e ` + release + ` ] && [ -d ` + dir + ` ]; do sleep 0.02; done
rmdir ` + busy
	job := Job{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}, After: &AfterCommand{Argv: []string{afterScript(t, dir, log, body)}}}
	logs := &testutil.LockedBuffer{}
	in, ctl, done := controlled(t, Options{Jobs: []Job{job}, Initial: true, Logger: zerolog.New(logs)})
	testutil.Eventually(t, 10*time.Second, "the after command running", func() bool {
		a := jobOf(t, askStatus(ctl), dst).After
		return a != nil && a.Running
	})
	reloadAway(ctl, job)
	testutil.Eventually(t, 10*time.Second, "the initial run of the job added back done, its after command waiting", func() bool {
		a := jobOf(t, askStatus(ctl), dst).After
		return strings.Count(logs.String(), `"message":"rsync"`) == 2 && a != nil && a.WaitingFull
	})
	must(t, os.WriteFile(release, nil, 0o644))
	testutil.Eventually(t, 20*time.Second, "both after commands done", func() bool { return len(calls(log)) == 2 })
	if _, err := os.Stat(overlap); err == nil {
		t.Errorf("the after command of the job added back ran beside the removed one's:\n%s", logs.String())
	}
	endDispatch(t, in, done)
}

// A reload that removes a job takes it out of the job list (a run of it
// still going is booked through its result), so reloads that add and
// remove trees again and again do not grow the list.
func TestReloadDropsRemovedJobs(t *testing.T) {
	job := func(tree int) Job {
		return Job{Tree: tree, Path: fmt.Sprintf("/s%d/", tree), Dest: "/d/", Settings: Settings{Rsync: "/bin/false", Bwlimit: "0"}}
	}
	d := newDispatcher(Options{Jobs: []Job{job(0), job(1)}, Pretend: true, Logger: zerolog.Nop()})
	d.merge(d.jobs[1], []string{"a"}, false, false, time.Now())
	d.startReady()
	gone := d.jobs[1]
	for i := range 100 {
		Reconfigure{Jobs: []Job{job(0), job(2 + i)}}.handle(d)
	}
	if len(d.jobs) != 2 || d.jobs[0].Tree != 0 || d.jobs[1].Tree != 101 {
		t.Fatalf("after 100 reloads the job list holds %d jobs (want trees 0 and 101)", len(d.jobs))
	}
	if len(d.removed) != 1 || d.removed[0] != gone {
		t.Errorf("%d removed jobs kept; want the one with a run going", len(d.removed))
	}
	// The run of the removed job, started before the reloads, is booked.
	r := <-d.results
	if r.job != gone {
		t.Fatalf("a run of tree %d, want the removed tree 1's", r.job.Tree)
	}
	d.finish(r, false)
	if len(gone.runs) != 0 || d.running != 0 {
		t.Errorf("the removed job's run is still booked: %v, %d running", gone.runs, d.running)
	}
}

// A node that cannot be reached shows the remote shell's words (why it
// could not), not rsync's summary line after them.
func TestStatusUnreachableShowsShellError(t *testing.T) {
	testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src")+"/", "web2:"+filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "f"), "1")
	fake := filepath.Join(dir, "rsync")
	if err := os.WriteFile(fake, []byte(`#!/bin/sh
echo "Warning: Permanently added '[web2]:22' (ED25519) to the list of known hosts." >&2
echo "ssh: connect to host web2 port 22: Connection refused" >&2
echo "rsync: connection unexpectedly closed (0 bytes received so far) [sender]" >&2
echo "rsync error: unexplained error (code 255) at io.c(232) [sender=3.2.7]" >&2
exit 255
`), 0o755); err != nil {
		t.Fatal(err)
	}
	o := Options{Jobs: []Job{{Path: src, Node: "web2:", Dest: dst, Settings: Settings{Rsync: fake, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.Nop()}
	o.Backoff.Min, o.Backoff.Max = time.Hour, time.Hour
	in, ctl, done := controlled(t, o)
	var s JobStatus
	testutil.Eventually(t, 10*time.Second, "the job failing", func() bool {
		s = jobOf(t, askStatus(ctl), dst)
		return s.Failures >= 1
	})
	if want := "ssh: connect to host web2 port 22: Connection refused"; s.LastExit != 255 || s.LastError != want {
		t.Errorf("status: exit %d, %q; want 255 and %q", s.LastExit, s.LastError, want)
	}
	close(in)
	if err := <-done; err == nil { // the node never took the sync
		t.Error("the dispatcher ended without saying what it left unsynced")
	}
}

func TestRemoteShellError(t *testing.T) {
	for out, want := range map[string]string{
		"Permission denied (publickey).\nrsync: connection unexpectedly closed (0 bytes received so far) [sender]\nrsync error: error in rsync protocol data stream (code 12) at io.c(232)\n": "Permission denied (publickey).",
		"rsync: connection unexpectedly closed\n":                                                                "",
		"[sender] _exit_cleanup(code=12, file=io.c, line=232): about to call exit(12)\n":                         "",
		"Welcome to web2\nPermission denied (publickey).\nrsync: connection unexpectedly closed\nsent 0 bytes\n": "Permission denied (publickey).",
	} {
		if got := remoteShellError(out); got != want {
			t.Errorf("remoteShellError(%q) = %q, want %q", out, got, want)
		}
	}
}

// A node that cannot be reached is one cause, whichever exit rsync gives
// for it: a refused login comes as 12 and 255 in turn, and is logged
// once, not at every exit that differs from the last.
func TestUnreachableExitsOneCause(t *testing.T) {
	testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	fake := filepath.Join(dir, "rsync")
	count := filepath.Join(dir, "count")
	if err := os.WriteFile(fake, []byte(`#!/bin/sh
n=$(cat `+count+` 2>/dev/null || echo 0)
echo $((n+1)) > `+count+`
echo "Permission denied (publickey)." >&2
[ $((n % 2)) -eq 0 ] && exit 12
exit 255
`), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs testutil.LockedBuffer
	o := Options{Jobs: []Job{{Path: src, Node: "web2:", Dest: dst, Settings: Settings{Rsync: fake, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.New(&logs)}
	o.Backoff.Min, o.Backoff.Max = 20*time.Millisecond, 20*time.Millisecond
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "six failures", func() bool { return jobOf(t, askStatus(ctl), dst).Failures >= 6 })
	if n := strings.Count(logs.String(), "will retry"); n != 1 {
		t.Errorf("%d failures logged, want 1:\n%s", n, logs.String())
	}
	close(in)
	<-done
}

// The changes a removed tree's watcher still hands on after the reload
// (its delay held them) are said to be dropped, naming the tree.
func TestRemovedTreeLateChangesLogged(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, src2 := filepath.Join(dir, "src")+"/", filepath.Join(dir, "src2")+"/"
	write(t, filepath.Join(src, "f"), "1")
	write(t, filepath.Join(src2, "g"), "2")
	var logs testutil.LockedBuffer
	jobs := []Job{
		{Tree: 0, Path: src, Dest: filepath.Join(dir, "a"), Settings: Settings{Rsync: rs, Bwlimit: "0"}},
		{Tree: 1, Path: src2, Dest: filepath.Join(dir, "b"), Settings: Settings{Rsync: rs, Bwlimit: "0"}},
	}
	in, ctl, done := controlled(t, Options{Jobs: jobs, Logger: zerolog.New(&logs)})
	reply := make(chan struct{})
	ctl <- Reconfigure{Jobs: jobs[:1], Reply: reply}
	<-reply
	in <- Work{Tree: 1, Paths: []string{"g", "h"}}
	in <- Work{Tree: 0, Paths: []string{"f"}}
	testutil.Eventually(t, 10*time.Second, "the kept tree's change synced", func() bool { return snapshot(filepath.Join(dir, "a")) == "f:1\n" })
	want := `"path":"` + src2 + `","paths":2,"full":false,"message":"tree removed by the reload; changes it still held are dropped"`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks\n%s\n:\n%s", want, logs.String())
	}
	if strings.Contains(logs.String(), `"path":"`+src+`","paths"`) {
		t.Errorf("the kept tree's change was said to be dropped:\n%s", logs.String())
	}
	endDispatch(t, in, done)
}

// The paths of a run that has not ended count as pending: a run that
// hangs on its node keeps them unsynced, and the status says so, until
// the run ends.
func TestPendingCountsRunningPaths(t *testing.T) {
	real := testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	gate := filepath.Join(dir, "gate")
	rs := shellScript(t, dir, "rsync", "case \"$*\" in *files-from*) while [ ! -e "+gate+" ] && [ -d "+dir+" ]; do sleep 0.05; done ;; esac\nexec "+real+" \"$@\"\n")
	o := Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.Nop()}
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return jobOf(t, askStatus(ctl), dst).State == StateInSync })
	for _, f := range []string{"a", "b", "c"} {
		write(t, filepath.Join(src, f), "2")
	}
	in <- Work{Paths: []string{"a", "b", "c"}}
	testutil.Eventually(t, 10*time.Second, "the run held, its paths pending", func() bool {
		j := jobOf(t, askStatus(ctl), dst)
		return j.Running == 1 && j.Pending == 3
	})
	write(t, gate, "")
	testutil.Eventually(t, 10*time.Second, "the run's end", func() bool {
		j := jobOf(t, askStatus(ctl), dst)
		return j.State == StateInSync && j.Pending == 0
	})
	endDispatch(t, in, done)
}
