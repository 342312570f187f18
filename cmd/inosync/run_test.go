package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/inosync/inosync/internal/testutil"
)

// TestExitCodes pins contract 1's exit statuses: 0 for --version, -h and a
// valid --check; 1 for any invalid config; 2 for usage errors.
func TestExitCodes(t *testing.T) {
	testutil.NeedRsync(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.py")
	bad := filepath.Join(dir, "bad.py")
	if err := os.WriteFile(good, []byte("wpaths = ['"+dir+"']\nrpaths = ['/a']\nrnodes = ['h:']\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("wpaths = ['"+dir+"']\nrpaths = []\nrnodes = ['h:']\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--version"}, 0},
		{[]string{"-h"}, 0},
		{[]string{"-c", good, "--check"}, 0},
		{[]string{"-c", bad, "--check"}, 1},
		{[]string{"-c", bad}, 1},
		{[]string{"-c", filepath.Join(dir, "none.py"), "--check"}, 1},
		{[]string{"-q"}, 2},
		{[]string{"--check", "extra-arg"}, 2},
		{[]string{"--version=1"}, 2},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if got := run(tt.args, &out, &errb); got != tt.want {
			t.Errorf("inosync %q exited %d, want %d (stderr %q)", tt.args, got, tt.want, errb.String())
		}
	}
}
