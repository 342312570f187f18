package rsync

import (
	"errors"
	"os/exec"
	"testing"
	"time"
)

// A process that keeps writing is left alone; one that moves no data is
// killed once the limit has passed.
func TestWatchIdle(t *testing.T) {
	busy := exec.Command("sh", "-c", "i=0; while [ $i -lt 40 ]; do echo x; sleep 0.05; i=$((i+1)); done")
	out, err := runToTemp(busy, 500*time.Millisecond)
	if err != nil {
		t.Errorf("a process writing every 50 ms: %v (output %q)", err, out)
	}
	start := time.Now()
	_, err = runToTemp(exec.Command("sleep", "30"), 500*time.Millisecond)
	var ie *idleError
	if !errors.As(err, &ie) {
		t.Fatalf("an idle process: %v, want an idleError", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the idle process was killed after %v", took)
	}
}

func TestInitialIdle(t *testing.T) {
	st := Settings{Timeout: 300 * time.Second}
	for _, c := range []struct {
		dest  string
		extra []string
		want  time.Duration
	}{
		{"web1:/srv/www", nil, 300 * time.Second},
		{"web1:/srv/www", []string{"-e", "ssh -p 2222"}, 300 * time.Second},
		{"web1:/srv/www", []string{"--timeout=60"}, 0},
		{"/mnt/backup", nil, 0},
	} {
		st.Extra = c.extra
		if got := initialIdle(st, c.dest); got != c.want {
			t.Errorf("initialIdle(%v, %s) = %v, want %v", c.extra, c.dest, got, c.want)
		}
	}
}
