package main

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary be a busy process too, as startBusy
// re-executes os.Executable().
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == busyArg {
		busyMain(os.Args[2])
	}
	os.Exit(m.Run())
}

// TestBusy starts two busy processes, checks that they use CPU, and that
// none is left after stopAllBusy (as at the harness's exit or on SIGINT).
func TestBusy(t *testing.T) {
	s, err := startBusy(2)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, c := range s.procs {
		pids = append(pids, c.Process.Pid)
	}
	if len(pids) != 2 {
		t.Fatalf("%d busy processes, want 2", len(pids))
	}
	time.Sleep(300 * time.Millisecond)
	if sh := s.share(); sh < 20 {
		t.Errorf("the busy processes had %.0f%% of 2 CPUs, want most of them", sh)
	}
	stopAllBusy()
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("busy process %d still exists after stopAllBusy", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	s.stop() // a second stop is harmless
}
