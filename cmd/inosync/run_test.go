package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

// --check -v lists the settings a tree ends with, those of its own that
// differ from the globals among them: its timeout, resync interval and
// whether an empty source may be synced.
func TestCheckVerboseTreeSettings(t *testing.T) {
	testutil.NeedRsync(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cfg.py")
	text := "timeout = 60\nsync('" + dir + "/a/', '/m/a/', nodes = [''])\n" +
		"sync('" + dir + "/b/', '/m/b/', nodes = [''], timeout = 20, resync_interval = 3600, allow_empty_source = True)\n"
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-v", "--check", "-c", cfg}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := errb.String()
	for _, want := range []string{"  timeout        1m0s\n", "    timeout      20s\n", "    resync       every 1h0m0s\n", "    allow_empty_source True\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if strings.Count(got, "    timeout") != 1 {
		t.Errorf("a tree's timeout listed where it is the global one:\n%s", got)
	}
}
