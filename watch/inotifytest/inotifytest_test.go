package inotifytest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func readKnob(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(QueueKnob)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHelperLowerAndDie is the child of TestRestoreLeftover: it lowers the
// queue and is killed before its cleanup can put it back.
func TestHelperLowerAndDie(t *testing.T) {
	if os.Getenv("INOTIFYTEST_CHILD") == "" {
		t.Skip("the child process of TestRestoreLeftover")
	}
	LowerQueue(t, 64)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

// A test process killed while the queue is lowered leaves it lowered;
// RestoreLeftover, as TestMain calls it, puts it back.
func TestRestoreLeftover(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	orig := readKnob(t)
	t.Cleanup(func() { _ = os.WriteFile(QueueKnob, []byte(strconv.Itoa(orig)+"\n"), 0o644) })
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLowerAndDie$", "-test.count=1")
	cmd.Env = append(os.Environ(), "INOTIFYTEST_CHILD=1")
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed: %v", err)
	}
	if got := readKnob(t); got != 64 {
		t.Fatalf("the killed child left the knob at %d, want it lowered to 64", got)
	}
	if err := RestoreLeftover(); err != nil {
		t.Fatal(err)
	}
	if got := readKnob(t); got != orig {
		t.Fatalf("knob %d after RestoreLeftover, want %d", got, orig)
	}
	if _, err := os.Stat(Inotify.saved); !os.IsNotExist(err) {
		t.Fatalf("%s left after RestoreLeftover: %v", Inotify.saved, err)
	}
}
