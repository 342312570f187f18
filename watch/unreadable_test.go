package watch

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

const unreadableEnv = "INOSYNC_TEST_UNREADABLE_BASE"

// A directory the daemon's user may not read does not stop the start: it
// is a warning naming it, left unwatched, and the rest of the tree is
// watched.
func TestUnreadableDirWarned(t *testing.T) {
	asNobody(t, "TestUnreadableDirWarned", func(base string) { makeUnreadableTree(t, base, 0o700, false) }, checkUnreadable)
}

// A directory that could not be read is watched once a chmod lets this
// user in, and reported whole: what changed in it meanwhile is synced,
// and so is what changes in it from then on.
func TestUnreadableDirWatchedOnceReadable(t *testing.T) {
	asNobody(t, "TestUnreadableDirWatchedOnceReadable", func(base string) { makeUnreadableTree(t, base, 0, true) }, checkReadableAgain)
}

// asNobody runs check on a tree that prepare makes in a temp dir base, as
// a user that cannot read all of it: this user unless it is root, which
// reads every directory, else this test binary again as nobody (uid
// 65534), with the tree in a directory nobody may enter (go test's own
// directories are private).
func asNobody(t *testing.T, name string, prepare func(base string), check func(t *testing.T, base string)) {
	if base := os.Getenv(unreadableEnv); base != "" {
		check(t, base)
		return
	}
	if os.Geteuid() != 0 {
		base := t.TempDir()
		prepare(base)
		check(t, base)
		return
	}
	base, err := os.MkdirTemp("", "inosync-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	prepare(base)
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "watch.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), unreadableEnv+"="+base)
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("the check as nobody: %v\n%s", err, out)
	}
}

// makeUnreadableTree makes base/src with a readable subdirectory and one,
// secret, of the given mode; nobody owns what is below src when toNobody
// (so that nobody may chmod secret), root otherwise.
func makeUnreadableTree(t *testing.T, base string, mode os.FileMode, toNobody bool) {
	t.Helper()
	for _, d := range []string{"src/open/deeper", "src/secret/inside"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if toNobody && os.Geteuid() == 0 {
		for _, d := range []string{"src/open", "src/open/deeper", "src/secret", "src/secret/inside"} {
			if err := os.Chown(filepath.Join(base, d), 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Chmod(filepath.Join(base, "src/secret"), mode); err != nil {
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

func checkReadableAgain(t *testing.T, base string) {
	var logs testutil.LockedBuffer
	src := filepath.Join(base, "src")
	w := newWatcher(t, Options{Root: src, Trigger: allFileOps, Logger: zerolog.New(&logs)})
	r := run(t, w)
	if got, want := watched(w), []string{".", "open", "open/deeper"}; !slices.Equal(got, want) {
		t.Fatalf("watched %q at start, want %q", got, want)
	}
	if err := os.Chmod(filepath.Join(src, "secret"), 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "secret reported whole", func() bool {
		return r.has(Change{Rel: "secret", Op: Chmod | Create, IsDir: true})
	})
	if got, want := watched(w), []string{".", "open", "open/deeper", "secret", "secret/inside"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	writeFile(t, filepath.Join(src, "secret/inside/f"))
	testutil.Eventually(t, 5*time.Second, "CREATE secret/inside/f", func() bool { return r.has(Change{Rel: "secret/inside/f", Op: Create}) })
	if !strings.Contains(logs.String(), "directory readable now") {
		t.Errorf("no line saying the directory is watched now:\n%s", logs.String())
	}
}
