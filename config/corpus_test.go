package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inosync/inosync/rsync"
)

// TestCorpus loads every config of testdata/compat-corpus and compares the
// initial-sync argv with the one the Python original ran (.expect), or the
// error with the one it printed (.error).
func TestCorpus(t *testing.T) {
	eachCorpusConfig(t, func(t *testing.T, f, cfgPath, root string, opts Options) {
		want := readSubstituted(t, strings.TrimSuffix(f, ".py")+".expect", root)
		cfg, err := Load(cfgPath, opts)
		if wantErr, ok := readOptional(strings.TrimSuffix(f, ".py") + ".error"); ok {
			if err == nil {
				t.Fatalf("loaded, want the error %q", wantErr)
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(wantErr)) {
				t.Fatalf("error %q does not say %q", err, strings.TrimSpace(wantErr))
			}
			return
		}
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		var got []string
		for _, argv := range cfg.InitialArgv() {
			got = append(got, rsync.Quote(argv))
		}
		if g, w := strings.Join(got, "\n"), strings.TrimRight(want, "\n"); g != w {
			t.Errorf("argv differs\n got: %s\nwant: %s", g, w)
		}
	})
}

// eachCorpusConfig runs fn in a subtest for every config of
// testdata/compat-corpus, written with @ROOT@ replaced into a fresh root
// (the tree the corpus README asks for), and the options to load it with.
func eachCorpusConfig(t *testing.T, fn func(t *testing.T, corpusFile, cfgPath, root string, opts Options)) {
	if _, err := os.Stat(DefaultRsync); err != nil {
		t.Skipf("the corpus needs %s: %v", DefaultRsync, err)
	}
	files, err := filepath.Glob("../testdata/compat-corpus/r*.py")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".py")
		t.Run(name, func(t *testing.T) {
			root := corpusRoot(t)
			cfgPath := filepath.Join(root, name+".py")
			writeSubstituted(t, f, cfgPath, root)
			fn(t, f, cfgPath, root, Options{Cwd: root, Env: map[string]string{"HOME": "/root"}})
		})
	}
}

// corpusRoot makes the tree the corpus README asks for.
func corpusRoot(t *testing.T) string {
	root := t.TempDir()
	for _, d := range []string{"src1/sub", "src2", "logs"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readSubstituted(t *testing.T, path, root string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "@ROOT@", root)
}

func writeSubstituted(t *testing.T, from, to, root string) {
	if err := os.WriteFile(to, []byte(readSubstituted(t, from, root)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readOptional(path string) (string, bool) {
	b, err := os.ReadFile(path)
	return string(b), err == nil
}
