package rsync

import (
	"errors"
	"os/exec"
	"testing"
	"time"
)

// A process that moves data after its start is left alone, also when it
// goes silent for longer than the limit afterwards; one that moves no
// data from its start is killed once the limit has passed, also below a
// wrapper.
func TestWatchIdle(t *testing.T) {
	busy := exec.Command("sh", "-c", "sleep 1.3; echo x; sleep 1.5; echo y")
	out, err := runToTemp(busy, time.Second)
	if err != nil {
		t.Errorf("a process that wrote after its start, then was silent: %v (output %q)", err, out)
	}
	for _, argv := range [][]string{{"sleep", "30"}, {"sh", "-c", "sleep 30; true"}} {
		start := time.Now()
		_, err = runToTemp(exec.Command(argv[0], argv[1:]...), time.Second)
		var ie *idleError
		if !errors.As(err, &ie) {
			t.Fatalf("%q, idle: %v, want an idleError", argv, err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%q, idle, was killed after %v", argv, took)
		}
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
