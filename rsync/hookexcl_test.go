package rsync

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
	"github.com/inosync/inosync/rsync/operand"
	"github.com/rs/zerolog"
)

// TestExcludeListWithRsync checks that the exclude list leaves out exactly
// what the function excludes, wildcard characters in names included, with
// the real rsync, for sources with and without a trailing slash.
func TestExcludeListWithRsync(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	for _, f := range []string{"keep", "a*b.part", "[x].part", `back\slash.part`, "q?.part", "d.part/inner", "sub/keep", "sub/y.part", "sub/z"} {
		write(t, filepath.Join(src, f), "x")
	}
	excl := func(rel string, isDir bool) bool { return strings.HasSuffix(rel, ".part") }
	for _, source := range []string{src + "/", src} {
		dst := t.TempDir()
		_, prefix := operand.Root(source)
		pats, n := excludeList(filepath.Clean(source), prefix, true, nil, excl)
		if n != 6 {
			t.Errorf("%s: %d patterns, want 6", source, n)
		}
		file, err := writeExcludeFile(pats)
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(file)
		out, err := exec.Command(rs, "-ltrp", "--from0", "--exclude-from="+file, source, dst+"/").CombinedOutput()
		if err != nil {
			t.Fatalf("rsync: %v\n%s", err, out)
		}
		root := dst
		if prefix != "" {
			root = filepath.Join(dst, "src")
		}
		if got, want := snapshot(root), "keep:x\nsub/\nsub/keep:x\nsub/z:x\n"; got != want {
			t.Errorf("%s: target\n%s\nwant\n%s", source, got, want)
		}
	}
}

func TestAnchoredPattern(t *testing.T) {
	for in, want := range map[string]string{"a/b": "/a/b", "a*b": `/a\*b`, `x\y`: `/x\y`, `x\y?`: `/x\\y\?`, "[x]": `/\[x]`} {
		if got := anchoredPattern(in); got != want {
			t.Errorf("anchoredPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every path the exclude functions leave out stays off the target, in the
// initial sync and in a list run that takes a new directory (a tree moved
// in): rsync reads the NUL-separated exclude file only with --from0
// before it. An --exclude-from in extra, a file of lines, is read line by
// line in both.
func TestDispatchExcludeFunctionsEveryPath(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	userFile := filepath.Join(dir, "user.excludes")
	write(t, userFile, "*.log\n*.bak\n")
	for _, f := range []string{"keep", "a.secret", "b.secret", "private/p", "x.log", "y.bak"} {
		write(t, filepath.Join(src, f), "x")
	}
	excl := func(rel string, isDir bool) bool {
		return strings.HasSuffix(rel, ".secret") || isDir && filepath.Base(rel) == "private"
	}
	var logs testutil.LockedBuffer
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{
			Jobs: []Job{{Path: src + "/", Node: "", Dest: dst + "/", Exclude: excl,
				Settings: Settings{Rsync: rs, Bwlimit: "0", Extra: []string{"--exclude-from=" + userFile}}}},
			Initial: true,
			Logger:  zerolog.New(&logs),
		})
	}()
	want := "keep:x\n"
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool {
		return strings.Contains(logs.String(), `"full":true`)
	})
	if got := snapshot(dst); got != want {
		t.Errorf("after the initial sync, target\n%s\nwant\n%s", got, want)
	}
	for _, f := range []string{"moved/ok", "moved/c.secret", "moved/d.secret", "moved/private/q", "moved/z.log", "moved/w.bak"} {
		write(t, filepath.Join(src, f), "y")
	}
	in <- Work{Paths: []string{"moved/"}}
	want += "moved/\nmoved/ok:y\n"
	testutil.Eventually(t, 10*time.Second, "the moved-in directory", func() bool { return strings.Contains(snapshot(dst), "moved/ok:y") })
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := snapshot(dst); got != want {
		t.Errorf("after the list run, target\n%s\nwant\n%s\nlog:\n%s", got, want, logs.String())
	}
}
