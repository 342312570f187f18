package watch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CountDirs counts what a Watcher would watch: excluded directories and
// everything below them are left out.
func TestCountDirs(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/b/c", "a/d", "skip/x/y", "e"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "a/file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := CountDirs(root, func(rel string, isDir bool) bool { return rel == "skip" })
	if err != nil || n != 6 {
		t.Errorf("CountDirs = %d, %v; want 6 (root, a, a/b, a/b/c, a/d, e)", n, err)
	}
	if w, err := New(Options{Root: root, Exclude: func(rel string, isDir bool) bool { return rel == "skip" }}); err != nil {
		t.Fatal(err)
	} else {
		defer w.Close()
		if w.Watches() != n {
			t.Errorf("a Watcher holds %d watches, CountDirs says %d", w.Watches(), n)
		}
	}
}

// Limits that the trees would exceed are named, with a value that fits
// them (300 trees: more than twice the common 128).
func TestCheckLimits(t *testing.T) {
	read := func(name string) (int, error) {
		return map[string]int{"max_user_instances": 128, "max_user_watches": 65536}[name], nil
	}
	if err := checkLimits(Needs{Instances: 100, Watches: 1000}, read); err != nil {
		t.Errorf("within the limits: %v", err)
	}
	err := checkLimits(Needs{Instances: 301, Watches: 100000}, read)
	if err == nil {
		t.Fatal("301 instances and 100000 watches passed limits of 128 and 65536")
	}
	for _, want := range []string{"need 301 inotify instances", "fs.inotify.max_user_instances=640", "need 100000 inotify watches", "fs.inotify.max_user_watches=200064"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
}
