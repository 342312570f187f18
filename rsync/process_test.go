package rsync

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

// alive reports whether pid is a process that has not exited.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses; Z is a zombie.
	s := string(b)
	return !strings.HasPrefix(s[strings.LastIndexByte(s, ')')+1:], " Z")
}

// An rsync that hangs with a child of its own (as rsync hangs with its
// ssh) is killed at the stop timeout together with that child: nothing is
// left behind.
func TestStopKillsTheWholeRun(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	rs := shellScript(t, dir, "rsync", "sleep 600 &\necho $! > "+pidFile+"\nwait\n")
	in := make(chan Work)
	done := make(chan error, 1)
	go func() {
		done <- Dispatch(in, Options{
			Jobs:    []Job{{Path: dir + "/", Dest: filepath.Join(dir, "dst"), Settings: Settings{Rsync: rs, Bwlimit: "0"}}},
			Initial: true, StopTimeout: 100 * time.Millisecond, Logger: zerolog.Nop(),
		})
	}()
	var child int
	testutil.Eventually(t, 10*time.Second, "the hung run's child", func() bool {
		b, err := os.ReadFile(pidFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && child > 0
	})
	close(in)
	select {
	case err := <-done:
		if err == nil {
			t.Error("Dispatch reported everything synced, with the initial run killed")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Dispatch still waiting 20 s after its input closed (StopTimeout 100 ms)")
	}
	testutil.Eventually(t, 10*time.Second, "the run's child killed with it", func() bool { return !alive(child) })
}

// A run that goes on past SlowRun is warned about, again when its time has
// doubled, and its end is logged.
func TestSlowRunWarned(t *testing.T) {
	real := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst, gate := filepath.Join(dir, "src"), filepath.Join(dir, "dst"), filepath.Join(dir, "gate")
	write(t, filepath.Join(src, "f"), "1")
	rs := shellScript(t, dir, "rsync", "while [ ! -e "+gate+" ] && [ -d "+dir+" ]; do sleep 0.05; done\nexec "+real+" \"$@\"\n")
	var logs testutil.LockedBuffer
	in := make(chan Work)
	done := make(chan error, 1)
	go func() {
		done <- Dispatch(in, Options{
			Jobs:    []Job{{Path: src + "/", Node: "web2:", Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}},
			Initial: true, SlowRun: 100 * time.Millisecond, Logger: zerolog.New(&logs),
		})
	}()
	warnings := func() []string {
		var w []string
		for l := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(l, `"level":"warn"`) && strings.Contains(l, "rsync has been running for") {
				w = append(w, l)
			}
		}
		return w
	}
	testutil.Eventually(t, 10*time.Second, "two slow-run warnings", func() bool { return len(warnings()) >= 2 })
	if w := warnings()[0]; !strings.Contains(w, `"node":"web2:"`) || !strings.Contains(w, `"run":"initial full sync"`) {
		t.Errorf("the warning does not name the node and the run: %s", w)
	}
	if w := warnings()[0]; !strings.Contains(w, "the initial sync has 0.2.3's command line, without --timeout") {
		t.Errorf("the warning does not say that nothing times the initial sync out: %s", w)
	}
	write(t, gate, "")
	testutil.Eventually(t, 10*time.Second, "the end of the slow run", func() bool {
		return strings.Contains(logs.String(), "the slow rsync run has ended")
	})
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(warnings()); n > 8 {
		t.Errorf("%d warnings for one slow run: they should come further and further apart", n)
	}
}

// Runs after the initial one carry the I/O timeout; the initial one keeps
// 0.2.3's argv.
func TestTimeoutOnLaterRuns(t *testing.T) {
	s := Settings{Rsync: "/usr/bin/rsync", Bwlimit: "0", Timeout: 299500 * time.Millisecond}
	if argv := Argv(s, "/src/", "web1:/dst/"); slices.ContainsFunc(argv, func(a string) bool { return strings.HasPrefix(a, "--timeout") }) {
		t.Errorf("initial argv %q has a --timeout", argv)
	}
	list, _ := ListArgv(s, "/src/", "web1:/dst/")
	for _, argv := range [][]string{list, RescanArgv(s, "/src/", "web1:/dst/")} {
		if !slices.Contains(argv, "--timeout=300") {
			t.Errorf("argv %q: want --timeout=300", argv)
		}
	}
	s.Timeout = 0
	if list, _ := ListArgv(s, "/src/", "web1:/dst/"); slices.ContainsFunc(list, func(a string) bool { return strings.HasPrefix(a, "--timeout") }) {
		t.Errorf("timeout 0: argv %q has a --timeout", list)
	}
}

// A node that accepts the connection and never answers: ssh gives up after
// its ConnectTimeout (here the 2 s I/O timeout), the run fails as
// unreachable and is retried; nothing hangs.
func TestHungNodeTimesOut(t *testing.T) {
	dir, st := hungNode(t)
	var logs testutil.LockedBuffer
	o := Options{Jobs: []Job{{Path: filepath.Join(dir, "src") + "/", Node: "127.0.0.1:", Dest: "127.0.0.1:" + filepath.Join(dir, "dst"), Settings: st}},
		Logger: zerolog.New(&logs)}
	o.Backoff.Min, o.Backoff.Max = time.Hour, time.Hour
	in, ctl, done := controlled(t, o)
	start := time.Now()
	in <- Work{Paths: []string{"f"}}
	var j JobStatus
	testutil.Eventually(t, 30*time.Second, "the run to the hung node failing", func() bool {
		j = jobOf(t, askStatus(ctl), "127.0.0.1:"+filepath.Join(dir, "dst"))
		return j.Failures == 1
	})
	// rsync exits 255 or 12 as ssh's end and its own race.
	if !unreachable(j.LastExit) || !strings.Contains(logs.String(), "timed out during banner exchange") {
		t.Errorf("hung node: exit %d, log:\n%s\nwant an unreachable node and ssh's time-out", j.LastExit, logs.String())
	}
	t.Logf("the run to the hung node failed after %v", time.Since(start).Round(100*time.Millisecond))
	close(in)
	<-done
}

// The initial run keeps 0.2.3's command line, without --timeout, and with
// -e in extra ssh gets no time limits either: a node that accepts the
// connection and never answers is caught by the daemon's own watch, which
// kills rsync and its ssh once no data moved for `timeout`.
func TestHungNodeInitialRunKilled(t *testing.T) {
	dir, st := hungNode(t)
	var logs testutil.LockedBuffer
	dest := "127.0.0.1:" + filepath.Join(dir, "dst")
	o := Options{Jobs: []Job{{Path: filepath.Join(dir, "src") + "/", Node: "127.0.0.1:", Dest: dest, Settings: st}},
		Initial: true, Logger: zerolog.New(&logs)}
	o.Backoff.Min, o.Backoff.Max = time.Hour, time.Hour
	in, ctl, done := controlled(t, o)
	start := time.Now()
	var j JobStatus
	testutil.Eventually(t, 30*time.Second, "the initial run to the hung node failing", func() bool {
		j = jobOf(t, askStatus(ctl), dest)
		return j.Failures == 1
	})
	if want := "moved no data for 2s after their start and were killed"; !strings.Contains(logs.String(), want) || !strings.Contains(j.LastError, want) {
		t.Errorf("log or status (%q) lacks %q:\n%s", j.LastError, want, logs.String())
	}
	if !unreachable(j.LastExit) {
		t.Errorf("exit %d: the node should show as unreachable", j.LastExit)
	}
	t.Logf("the initial run to the hung node failed after %v", time.Since(start).Round(100*time.Millisecond))
	if kids := children(); len(kids) > 0 {
		t.Errorf("processes left after the kill: %v", kids)
	}
	close(in)
	<-done
}

// hungNode starts a hungListener and returns a temp dir whose src holds
// the file f, and settings that reach the listener with `-e ssh` in extra
// and a 2 s timeout. It skips the test without an ssh client.
func hungNode(t *testing.T) (dir string, st Settings) {
	t.Helper()
	rs := testutil.NeedRsync(t)
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client")
	}
	port := hungListener(t)
	dir = t.TempDir()
	write(t, filepath.Join(dir, "src/f"), "1")
	return dir, Settings{Rsync: rs, Bwlimit: "0", Timeout: 2 * time.Second,
		Extra: []string{"-e", "ssh -p " + port + " -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}}
}

// hungListener listens on 127.0.0.1 and accepts connections that it never
// answers, until the test ends; it returns the port.
func hungListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn // accepted, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
