package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// notification is one datagram the daemon sent to NOTIFY_SOCKET.
type notification struct {
	at  time.Time
	msg string
}

// fakeSystemd is a NOTIFY_SOCKET that records what arrives on it.
type fakeSystemd struct {
	path string
	mu   sync.Mutex
	got  []notification
}

func newFakeSystemd(t *testing.T) *fakeSystemd {
	t.Helper()
	f := &fakeSystemd{path: filepath.Join(t.TempDir(), "notify")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: f.path, Net: "unixgram"})
	must(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	go func() {
		buf := make([]byte, 8<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			f.mu.Lock()
			f.got = append(f.got, notification{time.Now(), string(buf[:n])})
			f.mu.Unlock()
		}
	}()
	return f
}

// all returns what arrived so far.
func (f *fakeSystemd) all() []notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]notification(nil), f.got...)
}

// index is the position of the first notification from from on that
// contains every one of parts; -1 when none does.
func (f *fakeSystemd) index(from int, parts ...string) int {
	got := f.all()
	for i := from; i < len(got); i++ {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(got[i].msg, p)
		}
		if ok {
			return i
		}
	}
	return -1
}

// await waits for a notification from from on with every one of parts and
// returns its position.
func (f *fakeSystemd) await(t *testing.T, from int, what string, parts ...string) int {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, what, func() bool { return f.index(from, parts...) >= 0 })
	return f.index(from, parts...)
}

// longestPingGap is the longest time between WATCHDOG=1 pings between
// two instants, counting from the first ping in that span.
func (f *fakeSystemd) longestPingGap(from, to time.Time) (time.Duration, int) {
	var last time.Time
	var gap time.Duration
	n := 0
	for _, m := range f.all() {
		if m.msg != "WATCHDOG=1" || m.at.Before(from) || m.at.After(to) {
			continue
		}
		if !last.IsZero() {
			gap = max(gap, m.at.Sub(last))
		}
		last = m.at
		n++
	}
	return gap, n
}

// Under systemd (Type=notify, WatchdogSec=2): READY=1 comes once the tree
// is watched; STATUS= says when the node fails and when it is in sync
// again; WATCHDOG=1 comes at least every WatchdogSec/2, idle and busy;
// a reload is RELOADING=1 then READY=1; a stop is STOPPING=1.
func TestSystemdNotify(t *testing.T) {
	testutil.NeedRsync(t)
	const watchdog = 2 * time.Second
	sd := newFakeSystemd(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "src/f"), "1")
	cfg := filepath.Join(base, "cfg.py")
	// The target's parent is missing: the node fails until it is made.
	writeCfg(t, cfg, base, `sync("@BASE@/src/", "@BASE@/missing/dst/", nodes = [""], delay = 0)
`)
	cmd, _ := startProcess(t, cfg, "NOTIFY_SOCKET="+sd.path, "WATCHDOG_USEC=2000000")

	ready := sd.await(t, 0, "READY=1", "READY=1", "STATUS=1 tree, 1 node: ")
	// The socket is up before READY=1: a unit's ExecStartPost or a
	// script waiting on the start may use it. (Its log line may still be
	// in the pipe from the daemon: the file is what counts.)
	if _, err := os.Stat(filepath.Join(base, "ctl.sock")); err != nil {
		t.Errorf("READY=1 came before the control socket was up: %v", err)
	}
	failing := sd.await(t, ready, "STATUS= saying the node fails", "STATUS=1 tree, 1 node: node (local) failing since")

	idleFrom := time.Now()
	testutil.Eventually(t, 10*time.Second, "3 s of pings", func() bool { return time.Since(idleFrom) > 3*time.Second })
	if gap, n := sd.longestPingGap(idleFrom, time.Now()); n < 3 || gap > watchdog/2 {
		t.Errorf("idle: %d pings, longest gap %v; want one at least every %v", n, gap, watchdog/2)
	}

	// Busy: a stream of changes while the node fails and is retried.
	busyFrom := time.Now()
	for i := 0; time.Since(busyFrom) < 3*time.Second; i++ {
		writeFile(t, filepath.Join(base, "src", "busy", string(rune('a'+i%26))+".txt"), strings.Repeat("x", i))
	}
	if gap, n := sd.longestPingGap(busyFrom, time.Now()); n < 3 || gap > watchdog/2 {
		t.Errorf("busy: %d pings, longest gap %v; want one at least every %v", n, gap, watchdog/2)
	}

	must(t, os.MkdirAll(filepath.Join(base, "missing"), 0o755))
	inSync := sd.await(t, failing, "STATUS= saying it is in sync", "STATUS=1 tree, 1 node: in sync")

	must(t, cmd.Process.Signal(syscall.SIGHUP))
	reloading := sd.await(t, inSync, "RELOADING=1", "RELOADING=1", "MONOTONIC_USEC=")
	sd.await(t, reloading, "READY=1 after the reload", "READY=1", "STATUS=")

	must(t, cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("inosync after SIGTERM: %v", err)
	}
	if sd.index(reloading, "STOPPING=1") < 0 {
		t.Errorf("no STOPPING=1; got %+v", sd.all())
	}
}
