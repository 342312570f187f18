package rsync

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

// An option rsync does not know, in extra: the node fails with rsync's own
// line, each retry waits the longest backoff and logs an error, never a
// transient warning.
func TestUnknownOptionIsConfigFault(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")+"/"
	write(t, filepath.Join(src, "a"), "1")
	var logs testutil.LockedBuffer
	in, ctl, done := controlled(t, Options{
		Jobs:    []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0", Extra: []string{"--no-such-option"}}}},
		Initial: true, Backoff: struct{ Min, Max time.Duration }{Min: time.Millisecond, Max: 300 * time.Millisecond}, Logger: zerolog.New(&logs),
	})
	testutil.Eventually(t, 10*time.Second, "two errors", func() bool {
		return strings.Count(logs.String(), `"level":"error"`) >= 2
	})
	s := jobOf(t, askStatus(ctl), dst)
	if s.State != StateFailing || s.LastExit != 1 || !strings.Contains(s.LastError, "--no-such-option") {
		t.Errorf("status: %s, exit %d, %q; want failing, exit 1 and rsync's line naming the option", s.State, s.LastExit, s.LastError)
	}
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"level":"warn"`) {
			t.Errorf("a warning for a configuration fault: %s", line)
		}
		if strings.Contains(line, `"level":"error"`) && (!strings.Contains(line, `"retry_in_ms":300`) || !strings.Contains(line, "rsync refused its command line")) {
			t.Errorf("want each error to say what is wrong and retry after the longest backoff: %s", line)
		}
	}
	close(in)
	<-done
}

func TestFirstError(t *testing.T) {
	out := "rsync: --no-such-option: unknown option\nrsync error: syntax or usage error (code 1) at main.c(1795) [client=3.5.0]\n"
	if got := firstError(out); got != "rsync: --no-such-option: unknown option" {
		t.Errorf("firstError = %q", got)
	}
	if got := firstError("nothing\n"); got != "" {
		t.Errorf("firstError = %q, want none", got)
	}
	// The pair's other process going away follows the cause, in either
	// order; alone, it is what there is.
	pipe := "rsync: [sender] write error: Broken pipe (32)\n"
	full := "rsync: [receiver] write failed on \"/t/big\": No space left on device (28)\n"
	for _, out := range []string{pipe + full, full + pipe} {
		if got := firstError(out + "rsync error: error in file IO (code 11) at receiver.c(381) [receiver=3.5.0]\n"); got != strings.TrimSpace(full) {
			t.Errorf("firstError = %q, want the full disk", got)
		}
	}
	if got := firstError(pipe); got != strings.TrimSpace(pipe) {
		t.Errorf("firstError = %q, want the broken pipe", got)
	}
}
