// Package testutil holds the helpers that the tests of several packages
// share: polling for a condition to a deadline, a log sink safe for many
// goroutines, the rsync the tests need, and the compatibility corpus.
package testutil

import (
	"bytes"
	"os"
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
