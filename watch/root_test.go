package watch

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Check tells a path that leads to the watched directory from one that
// leads nowhere, to another directory, or to another filesystem.
func TestRootCheck(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := StatRoot(src + "/")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Fatalf("unchanged root: %v", err)
	}
	if err := os.Rename(src, src+".old"); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); !errors.Is(err, ErrRootGone) {
		t.Errorf("renamed away: %v, want ErrRootGone", err)
	}
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); !errors.Is(err, ErrRootReplaced) {
		t.Errorf("made again: %v, want ErrRootReplaced", err)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("src.old", src); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Errorf("a symlink to the same directory: %v", err)
	}
}

// mountTmpfs mounts a tmpfs on dir, unmounted (lazily) at the end of the
// test; it skips the test when it cannot (not root).
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

// After the source's filesystem is unmounted, the root is a bare mount
// point; another filesystem mounted there is another directory.
func TestRootAcrossMounts(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, src)
	r, err := StatRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("umount", "-l", src).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v: %s", err, out)
	}
	if err := r.Check(); !errors.Is(err, ErrRootUnmounted) {
		t.Errorf("after umount: %v, want ErrRootUnmounted", err)
	}
	mountTmpfs(t, src)
	if err := r.Check(); !errors.Is(err, ErrRootReplaced) {
		t.Errorf("another filesystem mounted there: %v, want ErrRootReplaced", err)
	}
}

// A RootWatch reports an entry renamed in a root's parent directory at
// once (its interval here is far longer than the test), and ticks.
func TestRootWatchReports(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := NewRootWatch(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w.Watch([]string{src + "/"})
	select { // a change of the mount table before the watch began
	case <-w.C:
	default:
	}
	if err := os.Rename(src, src+".old"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.C:
	case <-time.After(10 * time.Second):
		t.Fatal("no report within 10 s of the source renamed away")
	}
	ticking, err := NewRootWatch(ctx, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-ticking.C:
		case <-time.After(10 * time.Second):
			t.Fatal("no tick within 10 s (interval 10 ms)")
		}
	}
}
