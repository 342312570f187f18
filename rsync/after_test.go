package rsync

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

// afterScript writes an executable script that appends, per call, its
// environment's INOSYNC_* values and its standard input (NUL shown as
// '|') to log, then runs body.
func afterScript(t *testing.T, dir, log, body string) string {
	t.Helper()
	p := filepath.Join(dir, "after.sh")
	script := "#!/bin/sh\n" +
		`printf 'source=%s node=%s target=%s full=%s stdin=' "$INOSYNC_SOURCE" "$INOSYNC_NODE" "$INOSYNC_TARGET" "$INOSYNC_FULL" >>` + log + "\n" +
		"tr '\\000' '|' >>" + log + "\n" +
		"echo >>" + log + "\n" + body + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// calls are the lines the after script logged.
func calls(log string) []string {
	b, _ := os.ReadFile(log)
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// The after command runs after the initial sync (INOSYNC_FULL=1, nothing
// on standard input) and after a list run, with that run's paths on
// standard input, NUL-terminated, a directory with its '/'; the status
// counts its runs.
func TestAfterGetsPathsAndEnvironment(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	log := filepath.Join(dir, "after.log")
	after := &AfterCommand{Argv: []string{afterScript(t, dir, log, "echo purged")}}
	logs := &testutil.LockedBuffer{}
	o := Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}, After: after}}, Initial: true,
		Logger: zerolog.New(logs)}
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the after command after the initial sync", func() bool {
		a := jobOf(t, askStatus(ctl), dst).After
		return a != nil && a.Runs == 1 && !a.Running
	})
	write(t, filepath.Join(src, "new file"), "2")
	write(t, filepath.Join(src, "d", "g"), "3")
	in <- Work{Paths: []string{"new file", "d/"}}
	testutil.Eventually(t, 10*time.Second, "the after command after the list run", func() bool {
		a := jobOf(t, askStatus(ctl), dst).After
		return a.Runs == 2 && !a.Running
	})
	endDispatch(t, in, done)
	want := []string{
		"source=" + src + " node= target=" + dst + " full=1 stdin=",
		"source=" + src + " node= target=" + dst + " full=0 stdin=d/|new file|",
	}
	if got := calls(log); !slices.Equal(got, want) {
		t.Errorf("after command calls:\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(logs.String(), `"output":"purged"`) {
		t.Errorf("the after command's output is not logged:\n%s", logs.String())
	}
}

// An after command that fails or hangs is logged and shown, is not
// retried, and does not hold up the syncs: a change made while it hangs
// reaches the target, and the next command gets what was synced
// meanwhile, together.
func TestAfterFailureAndTimeout(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	log := filepath.Join(dir, "after.log")
	// The first call hangs until killed; later ones exit 3.
	body := `if [ ! -e ` + dir + `/hung ]; then : >` + dir + `/hung; exec sleep 60; fi; echo "cache busy" >&2; exit 3`
	after := &AfterCommand{Argv: []string{afterScript(t, dir, log, body)}, Timeout: time.Second}
	logs := &testutil.LockedBuffer{}
	o := Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}, After: after}}, Initial: true,
		Logger: zerolog.New(logs)}
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the first after command hanging", func() bool {
		_, err := os.Stat(filepath.Join(dir, "hung"))
		return err == nil
	})
	for _, name := range []string{"a", "b"} {
		write(t, filepath.Join(src, name), name)
		in <- Work{Paths: []string{name}}
		testutil.Eventually(t, 10*time.Second, name+" synced while the after command hangs", func() bool {
			_, err := os.Stat(filepath.Join(dst, name))
			return err == nil
		})
	}
	if a := jobOf(t, askStatus(ctl), dst).After; !a.Running || a.Runs != 0 {
		t.Errorf("after status while the first one hangs = %+v", a)
	}
	var a *AfterStatus
	testutil.Eventually(t, 10*time.Second, "the hung command killed and the next one failing", func() bool {
		a = jobOf(t, askStatus(ctl), dst).After
		return a.Runs == 2 && !a.Running
	})
	if a.Failed != 2 || a.LastError != "exited with 3: cache busy" {
		t.Errorf("after status = %+v", a)
	}
	if !strings.Contains(logs.String(), "killed after its timeout of 1s") {
		t.Errorf("the timeout is not logged:\n%s", logs.String())
	}
	if j := jobOf(t, askStatus(ctl), dst); j.State != StateInSync || j.Failed != 0 {
		t.Errorf("a failing after command changed the node's state: %+v", j)
	}
	endDispatch(t, in, done)
	want := []string{
		"source=" + src + " node= target=" + dst + " full=1 stdin=",
		"source=" + src + " node= target=" + dst + " full=0 stdin=a|b|",
	}
	if got := calls(log); !slices.Equal(got, want) {
		t.Errorf("after command calls (none retried):\n%q\nwant\n%q", got, want)
	}
	if n := strings.Count(logs.String(), "the after command failed"); n != 2 {
		t.Errorf("%d failure lines, want 2:\n%s", n, logs.String())
	}
}

// A reload that takes the after command away while it runs: the command
// ends and is booked with the argv it ran, nothing is queued for the job
// any more, and the dispatcher goes on.
func TestAfterRemovedByReloadWhileRunning(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir, src, dst := sourceWithFile(t)
	log := filepath.Join(dir, "after.log")
	release := filepath.Join(dir, "release")
	body := `while [ ! -e ` + release + ` ] && [ -d ` + dir + ` ]; do sleep 0.05; done`
	job := Job{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}, After: &AfterCommand{Argv: []string{afterScript(t, dir, log, body)}}}
	logs := &testutil.LockedBuffer{}
	in, ctl, done := controlled(t, Options{Jobs: []Job{job}, Initial: true, Logger: zerolog.New(logs)})
	testutil.Eventually(t, 10*time.Second, "the after command running", func() bool {
		a := jobOf(t, askStatus(ctl), dst).After
		return a != nil && a.Running
	})
	write(t, filepath.Join(src, "g"), "2")
	in <- Work{Paths: []string{"g"}} // queued behind the running command
	testutil.Eventually(t, 10*time.Second, "g synced and waiting for the after command", func() bool {
		return jobOf(t, askStatus(ctl), dst).After.Waiting == 1
	})
	job.After = nil
	reply := make(chan struct{})
	ctl <- Reconfigure{Jobs: []Job{job}, Reply: reply}
	<-reply
	must(t, os.WriteFile(release, nil, 0o644))
	testutil.Eventually(t, 10*time.Second, "the command's end booked", func() bool {
		return strings.Contains(logs.String(), "the after command ran")
	})
	if a := jobOf(t, askStatus(ctl), dst).After; a != nil {
		t.Errorf("after the reload the status still shows an after command: %+v", a)
	}
	if !strings.Contains(logs.String(), `"files":1,"full":false,"paths":["g"],"message":"synced paths not passed to an after command`) {
		t.Errorf("the dropped paths are not logged:\n%s", logs.String())
	}
	endDispatch(t, in, done)
	if got := calls(log); len(got) != 1 {
		t.Errorf("after command calls %q, want only the first (the queued one dropped with the command)", got)
	}
}

// A command that leaves a process behind holding its standard input and
// output ends when the command itself exits, however much it was given to
// read: the wait is not held by the process left behind.
func TestAfterNotHeldByLeftoverProcess(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
	paths := make([]string, 0, 2000)
	for i := range 2000 {
		name := fmt.Sprintf("a-long-enough-file-name-to-fill-the-list-%04d-%s", i, strings.Repeat("x", 60))
		write(t, filepath.Join(src, name), "1")
		paths = append(paths, name)
	}
	pidFile := filepath.Join(dir, "leftover.pid")
	script := filepath.Join(dir, "after.sh")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\nsleep 60 &\necho $! >"+pidFile+"\nexit 0\n"), 0o755))
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			var pid int
			if _, err := fmt.Sscan(string(b), &pid); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	job := Job{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}, After: &AfterCommand{Argv: []string{script}, Timeout: 30 * time.Second}}
	in, ctl, done := controlled(t, Options{Jobs: []Job{job}, Logger: zerolog.Nop()})
	in <- Work{Paths: paths}
	var a *AfterStatus
	testutil.Eventually(t, 10*time.Second, "the after command booked while its leftover sleeps on", func() bool {
		a = jobOf(t, askStatus(ctl), dst).After
		return a != nil && a.Runs == 1
	})
	if a.Failed != 0 {
		t.Errorf("after status %+v, want a success", a)
	}
	endDispatch(t, in, done)
}
