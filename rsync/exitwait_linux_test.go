package rsync

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// awaitExit returns once the child has exited, and leaves it for Wait to
// reap: right after it, the child is a zombie.
func TestAwaitExit(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	awaitExit(cmd.Process.Pid)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The state follows the command's name in parentheses.
	state := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))[0]
	if state != "Z" {
		t.Errorf("state %q after awaitExit, want Z (exited, not reaped)", state)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
}
