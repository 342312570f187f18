package watch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

const unreadableEnv = "INOSYNC_TEST_UNREADABLE_BASE"

// A directory the daemon's user may not read does not stop the start: it
// is a warning naming it, left unwatched, and the rest of the tree is
// watched. Root reads every directory, so as root the check runs in this
// test binary again as nobody.
func TestUnreadableDirWarned(t *testing.T) {
	if base := os.Getenv(unreadableEnv); base != "" {
		checkUnreadable(t, base)
		return
	}
	if os.Geteuid() != 0 {
		base := t.TempDir()
		makeUnreadableTree(t, base)
		checkUnreadable(t, base)
		return
	}
	// A directory nobody may enter, with this test binary copied in: go
	// test's own directories are private.
	base, err := os.MkdirTemp("", "inosync-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	makeUnreadableTree(t, base)
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "watch.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestUnreadableDirWarned$", "-test.v")
	cmd.Env = append(os.Environ(), unreadableEnv+"="+base)
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestUnreadableDirWarned") {
		t.Fatalf("the check as nobody: %v\n%s", err, out)
	}
}

// makeUnreadableTree makes base/src with a readable and an unreadable
// subdirectory.
func makeUnreadableTree(t *testing.T, base string) {
	t.Helper()
	for _, d := range []string{"src/open/deeper", "src/secret/inside"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(base, "src/secret"), 0o700); err != nil {
		t.Fatal(err)
	}
}

func checkUnreadable(t *testing.T, base string) {
	var logs strings.Builder
	w, err := New(Options{Root: filepath.Join(base, "src"), Logger: zerolog.New(&logs)})
	if err != nil {
		t.Fatalf("an unreadable subdirectory stopped the start: %v", err)
	}
	defer w.Close()
	if n := w.Watches(); n != 3 {
		t.Errorf("%d watches, want 3 (src, open, open/deeper)", n)
	}
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), filepath.Join(base, "src/secret")) {
		t.Errorf("no warning naming the unreadable directory:\n%s", logs.String())
	}
}
