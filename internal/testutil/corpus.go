package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// corpusDir is testdata/compat-corpus, found from this file's place.
func corpusDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "compat-corpus")
}

// EachCorpusConfig runs fn in a subtest for every config of
// testdata/compat-corpus (the configs the Python original ran, with the
// argv it ran in a .expect file, or the error it printed in a .error
// file). Each is written, with @ROOT@ replaced, into a fresh root holding
// the tree the corpus README asks for; fn gets the corpus file, the
// written config and the root. Under CI a missing rsync fails the test,
// elsewhere it skips (the configs name the default rsync).
func EachCorpusConfig(t *testing.T, fn func(t *testing.T, corpusFile, cfgPath, root string)) {
	NeedRsync(t)
	files, err := filepath.Glob(filepath.Join(corpusDir(), "r*.py"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".py")
		t.Run(name, func(t *testing.T) {
			root := CorpusRoot(t)
			cfgPath := filepath.Join(root, name+".py")
			if err := os.WriteFile(cfgPath, []byte(ReadSubstituted(t, f, root)), 0o644); err != nil {
				t.Fatal(err)
			}
			fn(t, f, cfgPath, root)
		})
	}
}

// CorpusRoot makes the tree the corpus README asks for.
func CorpusRoot(t *testing.T) string {
	root := t.TempDir()
	for _, d := range []string{"src1/sub", "src2", "logs"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// ReadSubstituted reads path with @ROOT@ replaced by root.
func ReadSubstituted(t *testing.T, path, root string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "@ROOT@", root)
}

// CorpusExpectation returns what the original did with corpusFile: the
// argv lines it ran (ok), or the error it printed (ok false).
func CorpusExpectation(t *testing.T, corpusFile, root string) (argv string, errText string, ok bool) {
	base := strings.TrimSuffix(corpusFile, ".py")
	if b, err := os.ReadFile(base + ".error"); err == nil {
		return "", strings.TrimSpace(string(b)), false
	}
	return strings.TrimRight(ReadSubstituted(t, base+".expect", root), "\n"), "", true
}
