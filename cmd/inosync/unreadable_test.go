package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/internal/testutil"
)

// A directory that rsync (here run as nobody) cannot read: the daemon
// keeps the rest of the tree in sync, at the usual latency, and
// `inosync status` names the directory and exits 1; the stop names it as
// not synced.
func TestUnreadableDirSetAside(t *testing.T) { unreadableDirSetAside(t, "") }

func TestUnreadableDirSetAsideFanotify(t *testing.T) {
	needFanotify(t)
	unreadableDirSetAside(t, fanotifyCfg)
}

// unreadableDirSetAside: extra is added to the config.
func unreadableDirSetAside(t *testing.T, extra string) {
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	writeFile(t, filepath.Join(src, "ok/a"), "1")
	writeFile(t, filepath.Join(src, "secret/s"), "kept from nobody")
	must(t, os.MkdirAll(dst, 0o755))
	must(t, os.Chown(dst, 65534, 65534))
	must(t, os.Chmod(filepath.Join(src, "secret"), 0o700))
	rs := testutil.NobodyRsync(t, src, dst)
	o := startObserved(t, base, "rsync = \""+rs+"\"\n"+oneLocalTree+extra)
	testutil.Eventually(t, 10*time.Second, "the tree in sync but for secret", func() bool {
		r, _ := o.report(t)
		n := node(t, r, src)
		return n.State == status.InSync && len(n.Unreadable) == 1 && n.Unreadable[0].Path == "secret"
	})
	code, out, _ := o.client("status")
	if code != status.ExitFailing || !strings.Contains(out, "CANNOT READ secret") || !strings.Contains(out, "Permission denied") {
		t.Errorf("status: exit %d\n%s\nwant exit 1 and a line naming secret with rsync's error", code, out)
	}
	writeFile(t, filepath.Join(src, "ok/b"), "2")
	testutil.Eventually(t, 10*time.Second, "ok/b", func() bool {
		b, err := os.ReadFile(filepath.Join(dst, "ok/b"))
		return err == nil && string(b) == "2"
	})
	if !strings.Contains(o.logs.String(), "rsync cannot read this path") {
		t.Error("the unreadable path was not logged")
	}
	err := o.stop(t)
	if err == nil || !strings.Contains(err.Error(), "rsync cannot read: secret") {
		t.Errorf("stop: %v, want an error naming secret", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "secret/s")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("secret/s on the target: %v", err)
	}
}
