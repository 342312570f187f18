package main

import (
	"bytes"
	"fmt"
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
// its own, so that it gets real signals, with env added to its
// environment; its log (JSON) is returned buffered.
func startProcess(t *testing.T, cfg string, env ...string) (*exec.Cmd, *testutil.LockedBuffer) {
	t.Helper()
	var logs testutil.LockedBuffer
	cmd := exec.Command(os.Args[0], "-c", cfg, "--log-format=json")
	cmd.Env = append(append(os.Environ(), asMainEnv+"=1"), env...)
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
func TestSignals(t *testing.T) { signalsReloadResyncStop(t, "") }

func TestSignalsFanotify(t *testing.T) {
	needFanotify(t)
	signalsReloadResyncStop(t, fanotifyCfg)
}

// signalsReloadResyncStop sends the daemon its signals, with cfgExtra
// added to the config.
func signalsReloadResyncStop(t *testing.T, cfgExtra string) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	o := &observed{cfg: filepath.Join(base, "cfg.py")}
	cfgText := `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 3600)
` + cfgExtra
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
		return strings.Contains(logs.String(), "reload failed; the running config stays") && strings.Contains(logs.String(), fmt.Sprintf("cfg.py:%d:", strings.Count(cfgText, "\n")+1))
	})
	// The status says so, until a reload takes.
	if _, out, _ := o.client("status"); !strings.Contains(out, "(the config file was refused at the last reload)") ||
		!strings.Contains(out, "RELOAD REFUSED at ") || !strings.Contains(out, fmt.Sprintf("cfg.py:%d:", strings.Count(cfgText, "\n")+1)) {
		t.Errorf("status after a refused reload:\n%s", out)
	}
	writeCfg(t, o.cfg, base, cfgText)
	must(t, cmd.Process.Signal(syscall.SIGHUP))
	testutil.Eventually(t, 10*time.Second, "the second reload", func() bool { return strings.Count(logs.String(), "reloaded ") == 2 })
	if _, out, _ := o.client("status"); strings.Contains(out, "REFUSED") {
		t.Errorf("status after a reload that took:\n%s", out)
	}

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

// Two instances with two configs push to the same node over ssh: stopping
// one (which ends its own ssh masters) never breaks the other's transfer.
func TestTwoInstancesSideBySide(t *testing.T) {
	testutil.NeedRsync(t)
	k := newSSHKeys(t)
	port := freePort(t, "127.0.0.1")
	k.startSSHD(t, "127.0.0.1", port)
	cfg := func() string {
		return fmt.Sprintf(`sync("@BASE@/src/", "@BASE@/dst/", nodes = ["root@127.0.0.1:"], delay = 0)
extra = "--rsh='%s'"
rspeed = 400
`, k.rsh(port))
	}
	baseA, baseB := t.TempDir(), t.TempDir()
	for _, b := range []string{baseA, baseB} {
		writeFile(t, filepath.Join(b, "src/small"), "1")
		must(t, os.MkdirAll(filepath.Join(b, "dst"), 0o755))
	}
	a := startObserved(t, baseA, cfg())
	b := startObserved(t, baseB, cfg())
	for _, o := range []struct {
		o    *observed
		base string
	}{{a, baseA}, {b, baseB}} {
		converges(t, filepath.Join(o.base, "src"), filepath.Join(o.base, "dst"), "the initial sync")
		// A list run after the initial one starts the instance's ssh master.
		writeFile(t, filepath.Join(o.base, "src/second"), "2")
		converges(t, filepath.Join(o.base, "src"), filepath.Join(o.base, "dst"), "a run over the instance's ssh master")
	}
	// 2 MB at 400 KB/s: a transfer of about 5 s, on A's master.
	big := bytes.Repeat([]byte("0123456789abcdef"), 128<<10)
	must(t, os.WriteFile(filepath.Join(baseA, "src/big"), big, 0o644))
	testutil.Eventually(t, 10*time.Second, "A's transfer under way", func() bool {
		m, _ := filepath.Glob(filepath.Join(baseA, "dst/.big.*"))
		return len(m) > 0
	})
	must(t, b.stop(t))
	testutil.Eventually(t, 30*time.Second, "A's transfer complete", func() bool {
		got, err := os.ReadFile(filepath.Join(baseA, "dst/big"))
		return err == nil && bytes.Equal(got, big)
	})
	if strings.Contains(a.logs.String(), "rsync failed") {
		t.Errorf("A's rsync failed while B stopped")
	}
	must(t, a.stop(t))
}

// A second SIGTERM ends the final flush at once: the after command that
// hangs is killed with what it started, and inosync exits.
func TestSecondSignalKillsAfterCommand(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	pidFile := filepath.Join(base, "sleep.pid")
	script := filepath.Join(base, "hang")
	writeFile(t, script, "#!/bin/sh\nsleep 600 &\necho $! >"+pidFile+"\nwait\n")
	must(t, os.Chmod(script, 0o755))
	o := &observed{cfg: filepath.Join(base, "cfg.py")}
	writeCfg(t, o.cfg, base, `sync("@BASE@/src/", "@BASE@/dst/", nodes = [""], delay = 0, after = ["@BASE@/hang"], after_timeout = 600)
`)
	cmd, logs := startProcess(t, o.cfg)
	// The shell makes the file before it writes the pid.
	var pid int
	testutil.Eventually(t, 20*time.Second, "the after command hanging", func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		_, err = fmt.Sscan(string(b), &pid)
		return err == nil
	})
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	testutil.Eventually(t, 10*time.Second, "the stop begun", func() bool {
		r, _ := o.report(t)
		return r.Stopping
	})
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second): // the stop timeout is a minute
		t.Fatalf("inosync still running 20 s after the second SIGTERM")
	}
	if !strings.Contains(logs.String(), "stopping now (a second stop signal)") || !strings.Contains(logs.String(), "the after command was killed at the stop") {
		t.Errorf("log:\n%s", logs.String())
	}
	testutil.Eventually(t, 10*time.Second, "the after command's child gone", func() bool {
		return syscall.Kill(pid, 0) != nil
	})
}
