package rsync

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

// shellScript writes dir/name, a shell script with body, and returns its
// path.
func shellScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeRsh writes a remote shell that runs the command it is given here,
// ignoring the host: a "remote" node without sshd.
func fakeRsh(t *testing.T, dir string) string {
	return shellScript(t, dir, "rsh", "shift\nexec \"$@\"\n")
}

// An empty source never empties a target that is not: the full sync is
// refused, loudly, for a local and a "remote" target alike, until the
// source has files again (a remount) or the tree allows it. The source
// holds only lost+found, as a new filesystem mounted over it would.
func TestEmptySourceRefused(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src") + "/"
	if err := os.MkdirAll(filepath.Join(src, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	local, remote, allowed := filepath.Join(dir, "local"), filepath.Join(dir, "remote"), filepath.Join(dir, "allowed")
	for _, d := range []string{local, remote, allowed} {
		write(t, filepath.Join(d, "keep"), "mirror content")
	}
	st := Settings{Rsync: rs, Bwlimit: "0"}
	remoteSt := st
	remoteSt.Extra = []string{"--rsh=" + fakeRsh(t, dir)}
	var logs testutil.LockedBuffer
	o := Options{Jobs: []Job{
		{Path: src, Dest: local, Settings: st},
		{Path: src, Node: "fakehost:", Dest: "fakehost:" + remote, Settings: remoteSt},
		{Path: src, Dest: allowed, Settings: st, AllowEmptySource: true},
	}, Initial: true, Logger: zerolog.New(&logs)}
	o.Backoff.Min, o.Backoff.Max = 50*time.Millisecond, 100*time.Millisecond
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the allowed tree emptied, the others refused", func() bool {
		s := askStatus(ctl)
		_, err := os.Stat(filepath.Join(allowed, "keep"))
		return os.IsNotExist(err) && jobOf(t, s, local).State == StateFailing && jobOf(t, s, "fakehost:"+remote).State == StateFailing
	})
	for _, d := range []string{local, "fakehost:" + remote} {
		j := jobOf(t, askStatus(ctl), d)
		if j.LastExit != exitRefused || !strings.Contains(j.LastError, "is empty but the target") {
			t.Errorf("%s: exit %d, error %q; want a refusal naming the empty source", d, j.LastExit, j.LastError)
		}
	}
	for _, d := range []string{local, remote} {
		if b, err := os.ReadFile(filepath.Join(d, "keep")); err != nil || string(b) != "mirror content" {
			t.Errorf("%s/keep: %q, %v; the refused sync touched the target", d, b, err)
		}
	}
	if !strings.Contains(logs.String(), `"level":"error"`) || !strings.Contains(logs.String(), "sync refused to keep the target safe") {
		t.Errorf("no error logged for the refusal:\n%s", logs.String())
	}
	// The filesystem is back: the next check lets the sync go.
	write(t, filepath.Join(src, "keep"), "the source's content")
	testutil.Eventually(t, 10*time.Second, "both targets synced", func() bool {
		s := askStatus(ctl)
		return jobOf(t, s, local).State == StateInSync && jobOf(t, s, "fakehost:"+remote).State == StateInSync
	})
	for _, d := range []string{local, remote} {
		if b, err := os.ReadFile(filepath.Join(d, "keep")); err != nil || string(b) != "the source's content" {
			t.Errorf("%s/keep: %q, %v; want the source's", d, b, err)
		}
	}
	endDispatch(t, in, done)
}

// Every run asks CheckSource first: while the source is not the watched
// directory, no rsync runs and the job fails with the reason.
func TestCheckSourceHoldsRuns(t *testing.T) {
	rs := testutil.NeedRsync(t)
	_, src, dst := sourceWithFile(t)
	var lost atomic.Bool
	lost.Store(true)
	o := Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"},
		CheckSource: func() error {
			if lost.Load() {
				return errors.New("the source is now on another filesystem")
			}
			return nil
		}}}, Initial: true, Logger: zerolog.Nop()}
	o.Backoff.Min, o.Backoff.Max = 50*time.Millisecond, 50*time.Millisecond
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the job refused", func() bool {
		j := jobOf(t, askStatus(ctl), dst)
		return j.Failures >= 2 && strings.Contains(j.LastError, "another filesystem")
	})
	in <- Work{Paths: []string{"f"}}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("rsync ran while the source was refused: %v", err)
	}
	lost.Store(false)
	converged(t, src, dst)
	endDispatch(t, in, done)
}

// converged waits until dst holds what src holds.
func converged(t *testing.T, src, dst string) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, dst+" like "+src, func() bool { return snapshot(src) == snapshot(dst) })
}

// rsync's exit 25 (--max-delete reached) is held, not retried in a loop:
// the next change or a resync tries again.
func TestMaxDeleteHeld(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	rs := shellScript(t, dir, "rsync", "echo x >> "+count+"\necho 'Deletions stopped due to --max-delete limit (1 skipped)' >&2\nexit 25\n")
	runs := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "x")
	}
	src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "f"), "1")
	var logs testutil.LockedBuffer
	o := Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.New(&logs)}
	o.Backoff.Min, o.Backoff.Max = 10*time.Millisecond, 10*time.Millisecond
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the run stopped at --max-delete", func() bool {
		j := jobOf(t, askStatus(ctl), dst)
		return j.LastExit == exitMaxDelete && j.State == StateFailing
	})
	// Held: no retry is scheduled (a retry is only ever started by the
	// tick that NextRetry announces), and one run was made.
	if j := jobOf(t, askStatus(ctl), dst); !j.NextRetry.IsZero() || runs() != 1 {
		t.Fatalf("after exit 25: %d runs, next retry %v; want it held", runs(), j.NextRetry)
	}
	if !strings.Contains(logs.String(), "rsync stopped deleting at --max-delete") {
		t.Errorf("exit 25 not logged as such:\n%s", logs.String())
	}
	in <- Work{Paths: []string{"f"}}
	testutil.Eventually(t, 10*time.Second, "a new change tries again, and is held again", func() bool {
		return runs() == 2 && jobOf(t, askStatus(ctl), dst).Failures == 2
	})
	reply := make(chan int, 1)
	ctl <- ResyncRequest{Reply: reply}
	<-reply
	testutil.Eventually(t, 10*time.Second, "a resync tries again", func() bool { return runs() == 3 })
	close(in)
	<-done
}

// rsync's exit 23 ends with a summary that says nothing ("some files/attrs
// were not transferred (see previous errors)"): the status shows rsync's
// first error instead, which names what went wrong.
func TestPartialShowsFirstError(t *testing.T) {
	dir := t.TempDir()
	rs := shellScript(t, dir, "rsync", "echo 'rsync: [receiver] mkstemp \"/t/.f.x\" failed: Read-only file system (30)' >&2\n"+
		"echo 'rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]' >&2\nexit 23\n")
	src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "f"), "1")
	o := Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.Nop()}
	o.Backoff.Min, o.Backoff.Max = time.Hour, time.Hour
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the run failed", func() bool { return jobOf(t, askStatus(ctl), dst).Failures == 1 })
	if got := jobOf(t, askStatus(ctl), dst).LastError; !strings.Contains(got, "Read-only file system") {
		t.Errorf("last error %q, want rsync's first error", got)
	}
	close(in)
	<-done
}

// A job that keeps being refused is logged again at once when the reason
// changes (a source unmounted, then mounted again empty), not only in the
// reminder a minute later; the same reason again is not logged again.
func TestRefusalReasonChangeLogged(t *testing.T) {
	rs := testutil.NeedRsync(t)
	_, src, dst := sourceWithFile(t)
	var calls atomic.Int32
	var logs testutil.LockedBuffer
	o := Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"},
		CheckSource: func() error {
			if calls.Add(1) <= 3 {
				return errors.New("the source's filesystem is no longer mounted")
			}
			return errors.New("the source is empty but the target is not")
		}}}, Initial: true, Logger: zerolog.New(&logs)}
	o.Backoff.Min, o.Backoff.Max = 20*time.Millisecond, 20*time.Millisecond
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "both reasons logged", func() bool {
		return strings.Contains(logs.String(), "no longer mounted") && strings.Contains(logs.String(), "the source is empty but")
	})
	testutil.Eventually(t, 10*time.Second, "more refusals", func() bool { return jobOf(t, askStatus(ctl), dst).Failures >= 6 })
	if n := strings.Count(logs.String(), "sync refused to keep the target safe"); n != 2 {
		t.Errorf("%d refusals logged, want 2 (one per reason):\n%s", n, logs.String())
	}
	close(in)
	<-done
}

// A directory is empty with no entries or only lost+found, and when it
// does not exist.
func TestEmptyDir(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		entries []string
		want    bool
	}{
		{nil, true},
		{[]string{"lost+found/"}, true},
		{[]string{"lost+found/", "f"}, false},
		{[]string{"f"}, false},
		{[]string{"d/", "lost+found/"}, false},
	} {
		d, err := os.MkdirTemp(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range c.entries {
			if strings.HasSuffix(e, "/") {
				err = os.Mkdir(filepath.Join(d, e), 0o755)
			} else {
				err = os.WriteFile(filepath.Join(d, e), nil, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if got, err := emptyDir(d); err != nil || got != c.want {
			t.Errorf("%q: empty %v, %v; want %v", c.entries, got, err, c.want)
		}
	}
	if got, err := emptyDir(filepath.Join(dir, "none")); err != nil || !got {
		t.Errorf("a directory that does not exist: empty %v, %v", got, err)
	}
}

// A full disk on the node (a 1 MiB tmpfs as the target, a 2 MiB file):
// the status says which file and why, not only rsync's summary line.
func TestDiskFullShowsCause(t *testing.T) {
	rs := testutil.NeedRsync(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dst, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dst, syscall.MNT_DETACH) })
	write(t, filepath.Join(src, "big"), strings.Repeat("x", 2<<20))
	o := Options{Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}}, Initial: true, Logger: zerolog.Nop()}
	o.Backoff.Min, o.Backoff.Max = time.Hour, time.Hour
	in, ctl, done := controlled(t, o)
	testutil.Eventually(t, 10*time.Second, "the run failed", func() bool { return jobOf(t, askStatus(ctl), dst).Failures == 1 })
	j := jobOf(t, askStatus(ctl), dst)
	if j.LastExit != exitFileIO || !strings.Contains(j.LastError, "No space left on device") || !strings.Contains(j.LastError, "big") {
		t.Errorf("exit %d, last error %q; want exit 11 and rsync's error naming the file and the full disk", j.LastExit, j.LastError)
	}
	close(in)
	<-done
}
