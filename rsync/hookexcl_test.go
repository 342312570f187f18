package rsync

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inosync/inosync/internal/testutil"
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
		_, prefix := transferRoot(source)
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
