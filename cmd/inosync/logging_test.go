package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// journalStreamOf is the JOURNAL_STREAM value that names f.
func journalStreamOf(t *testing.T, f *os.File) string {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Fstat(int(f.Fd()), &st))
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// When JOURNAL_STREAM names standard error, every line of an event carries
// its level's syslog priority ("<N>", sd-daemon(3)) and no time stamp;
// when it names another file, the log stays JSON.
func TestJournaldPriorities(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	must(t, err)
	defer f.Close()
	lg, closeLog, err := newLogger(&options{verbose: true}, f, journalStreamOf(t, f))
	must(t, err)
	lg.Debug().Msg("a debug line")
	lg.Info().Str("node", "web2").Msg("an info line")
	lg.Warn().Msg("a warning")
	lg.Error().Err(errors.New("rsync said:\nsecond line")).Msg("an error")
	closeLog()
	b, err := os.ReadFile(f.Name())
	must(t, err)
	want := []struct{ prefix, text string }{
		{"<7>", "a debug line"},
		{"<6>", "an info line"},
		{"<4>", "a warning"},
		{"<3>", "an error"},
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("journald log has %d lines, want %d:\n%s", len(lines), len(want), b)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w.prefix) || !strings.Contains(lines[i], w.text) {
			t.Errorf("line %d = %q, want prefix %s and %q", i+1, lines[i], w.prefix, w.text)
		}
	}
	if !strings.Contains(lines[1], "node=web2") || !strings.Contains(lines[3], "second line") || strings.Contains(string(b), `"time"`) || strings.Contains(string(b), "{") {
		t.Errorf("journald lines should be plain text with fields and no time stamp:\n%s", b)
	}

	other, err := os.Create(filepath.Join(t.TempDir(), "other"))
	must(t, err)
	defer other.Close()
	lg, _, err = newLogger(&options{}, f, journalStreamOf(t, other))
	must(t, err)
	must(t, f.Truncate(0))
	_, err = f.Seek(0, 0)
	must(t, err)
	lg.Warn().Msg("not the journal")
	b, err = os.ReadFile(f.Name())
	must(t, err)
	if !strings.HasPrefix(string(b), `{"level":"warn"`) {
		t.Errorf("with JOURNAL_STREAM naming another file: %q, want JSON", b)
	}
}
