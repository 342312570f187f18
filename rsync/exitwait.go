package rsync

import "os/exec"

// wait is cmd.Wait for a started rsync, after awaiting its exit without
// blocking a thread (awaitExit).
func wait(cmd *exec.Cmd) error {
	awaitExit(cmd.Process.Pid)
	return cmd.Wait()
}
