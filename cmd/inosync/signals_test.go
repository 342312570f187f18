package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/internal/testutil"
)

// startProcess runs this test binary as `inosync -c CFG` in a process of
// its own, so that it gets real signals; its log (JSON) is returned
// buffered.
func startProcess(t *testing.T, cfg string) (*exec.Cmd, *testutil.LockedBuffer) {
	t.Helper()
	var logs testutil.LockedBuffer
	cmd := exec.Command(os.Args[0], "-c", cfg, "--log-format=json")
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	cmd.Stderr = &logs
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs.String())
		}
	})
	return cmd, &logs
}

// SIGHUP reloads without losing a change that waits out a long delay, a
// bad config leaves the daemon running the old one, SIGUSR1 syncs
// everything, and SIGTERM flushes what is pending.
func TestSignals(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	o := &observed{cfg: filepath.Join(base, "cfg.py")}
	cfgText := `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 3600)
`
	writeCfg(t, o.cfg, base, cfgText)
	cmd, logs := startProcess(t, o.cfg)
	testutil.Eventually(t, 20*time.Second, "the initial sync", func() bool {
		code, out, _ := o.client("status")
		return code == 0 && strings.Contains(out, ": in sync")
	})
	writeFile(t, filepath.Join(base, "src/pending"), "waits an hour")
	testutil.Eventually(t, 10*time.Second, "the change pending", func() bool {
		r, _ := o.report(t)
		return node(t, r, base+"/src").Pending == 1
	})

	// A reload keeps the pending change.
	must(t, cmd.Process.Signal(syscall.SIGHUP))
	testutil.Eventually(t, 10*time.Second, "the reload", func() bool { return strings.Contains(logs.String(), "reloaded ") })
	if r, _ := o.report(t); node(t, r, base+"/src").Pending != 1 {
		t.Errorf("after SIGHUP: %+v, want the change still pending", node(t, r, base+"/src"))
	}

	// A bad config: logged with its position; the daemon goes on.
	writeCfg(t, o.cfg, base, cfgText+"edelay = 'soon'\n")
	must(t, cmd.Process.Signal(syscall.SIGHUP))
	testutil.Eventually(t, 10*time.Second, "the failed reload", func() bool {
		return strings.Contains(logs.String(), "reload failed; the running config stays") && strings.Contains(logs.String(), "cfg.py:2:")
	})
	writeCfg(t, o.cfg, base, cfgText)

	// SIGUSR1 repairs a target; the pending change goes with it.
	writeFile(t, filepath.Join(base, "dst/f"), "changed on the target")
	must(t, cmd.Process.Signal(syscall.SIGUSR1))
	converges(t, filepath.Join(base, "src"), filepath.Join(base, "dst"), "the full sync of SIGUSR1")

	writeFile(t, filepath.Join(base, "src/last"), "flushed at stop")
	// Still held by the coalescer: the first change, and this one.
	testutil.Eventually(t, 10*time.Second, "the last change pending", func() bool {
		r, _ := o.report(t)
		return node(t, r, base+"/src").Pending == 2
	})
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("inosync after SIGTERM: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(base, "dst/last")); err != nil || string(b) != "flushed at stop" {
		t.Errorf("the change pending at SIGTERM: %q, %v", b, err)
	}
	if code, _, errs := o.client("status"); code != status.ExitNoDaemon || !strings.Contains(errs, "no inosync daemon answers") {
		t.Errorf("status with no daemon: exit %d, %s", code, errs)
	}
}

// The control socket is 0600, and a user other than root and the
// daemon's own is refused with a clear message.
func TestSocketIsPrivate(t *testing.T) {
	testutil.NeedRsync(t)
	if os.Getuid() != 0 {
		t.Skip("needs root, to run the client as another user")
	}
	// A directory that the other user may enter, with the test binary
	// copied in: go test's own directories are private.
	base, err := os.MkdirTemp("", "inosync-socket-")
	must(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	must(t, os.Chmod(base, 0o755))
	writeFile(t, filepath.Join(base, "src/f"), "1")
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0)
`)
	fi, err := os.Stat(o.sock)
	must(t, err)
	if fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("control socket mode %v, want a socket with 0600", fi.Mode())
	}
	self, err := os.ReadFile(os.Args[0])
	must(t, err)
	bin := filepath.Join(base, "inosync")
	must(t, os.WriteFile(bin, self, 0o755))
	cmd := exec.Command(bin, "status", "-c", o.cfg)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "permission denied: the control socket is only for root") {
		t.Errorf("status as nobody: %v, stderr %q; want exit 1 and a clear refusal", err, errb.String())
	}
}
