// Package testutil holds the helpers that the tests of several packages
// share: polling for a condition to a deadline, a log sink safe for many
// goroutines, the rsync the tests need, and the compatibility corpus.
package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Eventually fails the test unless cond becomes true within the given time.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(5 * time.Millisecond) { // poll interval, not a guess
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v for %s", within, what)
		}
	}
}

// LockedBuffer is a log sink that many goroutines may write to at once.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Rsync is the rsync binary the tests run: the one configs name by default.
const Rsync = "/usr/bin/rsync"

// NeedRsync returns Rsync. Without it the test is skipped, or fails under
// CI (CI set in the environment), where a skipped test would hide that
// nothing real was run.
func NeedRsync(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(Rsync); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed: %v", Rsync, err)
		}
		t.Skipf("%s is needed: %v", Rsync, err)
	}
	return Rsync
}

// Need skips the test, saying why, when err says that what it needs is
// missing here; under CI it fails instead, as NeedRsync does.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is needed: %v", what, err)
	}
	t.Skipf("%s is needed: %v", what, err)
}

// NobodyRsync returns a wrapper that runs rsync as the user nobody, who
// cannot read what only root may; the test is skipped unless it runs as
// root. dirs are made traversable for nobody.
func NobodyRsync(t testing.TB, dirs ...string) string {
	t.Helper()
	rs := NeedRsync(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run rsync as nobody")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	for _, d := range dirs {
		for ; d != "/" && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	wrap := filepath.Join(t.TempDir(), "rsync")
	body := "#!/bin/sh\nexec " + setpriv + " --reuid=65534 --regid=65534 --clear-groups " + rs + " \"$@\"\n"
	if err := os.WriteFile(wrap, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(wrap), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrap
}

// InotifyInstances counts the process's open inotify instances; it skips
// the test when /proc cannot tell.
func InotifyInstances(t testing.TB) int {
	t.Helper()
	return anonInodes(t, "anon_inode:inotify")
}

// FanotifyGroups counts the process's open fanotify groups; it skips the
// test when /proc cannot tell.
func FanotifyGroups(t testing.TB) int {
	t.Helper()
	return anonInodes(t, "anon_inode:[fanotify]")
}

// anonInodes counts the process's open descriptors that link to name.
func anonInodes(t testing.TB, name string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count %s descriptors: %v", name, err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && l == name {
			n++
		}
	}
	return n
}
