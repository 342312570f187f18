//go:build !linux

package rsync

// awaitExit does nothing where there are no pidfds (see exitwait_linux.go):
// exec.Cmd.Wait waits.
func awaitExit(int) {}
