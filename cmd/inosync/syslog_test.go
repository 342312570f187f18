package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// buildInosync builds the command into a temp dir.
func buildInosync(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "inosync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestDetachLogsToSyslog runs `inosync -d`: without a syslog socket it
// refuses in the foreground with a reason; with one (a unixgram socket at
// /dev/log, made by the test) the parent exits 0 at once and the detached
// daemon logs plain text as ident inosync, facility daemon, each level at
// its severity, and stops on SIGTERM.
func TestDetachLogsToSyslog(t *testing.T) {
	testutil.NeedRsync(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to listen on /dev/log")
	}
	if _, err := os.Lstat("/dev/log"); err == nil {
		t.Skip("/dev/log exists: a real syslog daemon would get the messages")
	}
	bin := buildInosync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "f"), "1")
	must(t, os.MkdirAll(dst, 0o755))
	cfgPath := filepath.Join(base, "cfg.py")
	must(t, os.WriteFile(cfgPath, []byte(strings.NewReplacer("@SRC@", src, "@DST@", dst).Replace(localCfg)), 0o644))

	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-d", "-c", cfgPath)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "cannot daemonize: cannot reach syslog") {
		t.Fatalf("inosync -d without syslog: %v, stderr %q; want a refusal naming syslog", err, stderr.String())
	}

	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "/dev/log", Net: "unixgram"})
	must(t, err)
	t.Cleanup(func() { _ = conn.Close(); _ = os.Remove("/dev/log") })
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	if out, err := exec.Command(bin, "-d", "-c", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("inosync -d: %v\n%s", err, out)
	}
	var got []string
	pid := 0
	wait := func(what string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case m := <-msgs:
				got = append(got, m)
				if pid == 0 {
					if sm := regexp.MustCompile(`inosync\[(\d+)\]: `).FindStringSubmatch(m); sm != nil {
						pid, _ = strconv.Atoi(sm[1])
					}
				}
				if strings.Contains(m, what) {
					return
				}
			case <-deadline:
				t.Fatalf("no syslog message with %q; got:\n%s", what, strings.Join(got, "\n"))
			}
		}
	}
	wait("INF rsync")
	if pid == 0 {
		t.Fatal("no inosync[PID] in the syslog messages")
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	// <30> is facility daemon (3) at level info (6).
	if !strings.HasPrefix(got[0], "<30>") {
		t.Errorf("first message %q: want priority <30> (daemon.info)", got[0])
	}
	converges(t, src, dst, "the detached daemon's initial sync")
	// A warning (the target is a file, rsync fails): <28> is
	// daemon.warning.
	must(t, os.RemoveAll(dst))
	writeFile(t, dst, "not a directory")
	writeFile(t, filepath.Join(src, "g"), "2")
	wait("WRN ")
	if m := got[len(got)-1]; !strings.HasPrefix(m, "<28>") || strings.Contains(m, "{") {
		t.Errorf("warning %q: want priority <28> (daemon.warning) and plain text", m)
	}
	must(t, os.Remove(dst))
	testutil.Eventually(t, 20*time.Second, "the retry once the target can be made", func() bool {
		b, err := os.ReadFile(filepath.Join(dst, "g"))
		return err == nil && string(b) == "2"
	})
	must(t, syscall.Kill(pid, syscall.SIGTERM))
	wait("INF stopped")
}
