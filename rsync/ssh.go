package rsync

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/inosync/inosync/rsync/operand"
	"github.com/rs/zerolog"
)

// sshReuseOpts make ssh keep one connection per node open and run every
// later rsync over it, which spares each run ssh's connection set-up and
// authentication (bench/findings.md, "Over ssh").
func sshReuseOpts(controlDir string) string {
	return "-o ControlMaster=auto -o ControlPersist=60 -o ControlPath=" + filepath.Join(controlDir, "%C")
}

// IsRemote reports whether an rsync destination names another host over a
// remote shell (host:path), not a local path or an rsync daemon (host::,
// rsync://).
func IsRemote(dest string) bool {
	if operand.Local(dest) || strings.HasPrefix(dest, "rsync://") {
		return false
	}
	return !strings.HasPrefix(dest[strings.IndexByte(dest, ':'):], "::") // host::module: an rsync daemon
}

// withSSHOptions returns extra with ssh options added for a run to a
// remote node: timeouts (see sshTimeouts), and connection reuse when
// controlDir is not "". They go into the user's own --rsh/-e when it runs
// ssh (reuse only when it chooses no ControlMaster or ControlPath of its
// own; a timeout only when it does not set that option), or as --rsh=ssh …
// (or the daemon's RSYNC_RSH, when that runs ssh) when extra names no
// remote shell. Any other remote shell is left alone.
func withSSHOptions(extra []string, controlDir string, timeouts []string) []string {
	out := append([]string(nil), extra...)
	cmd, set, found := remoteShell(out)
	if !found {
		// No remote shell in extra: rsync's own default, RSYNC_RSH or ssh.
		cmd = "ssh"
		if env, ok := os.LookupEnv("RSYNC_RSH"); ok {
			cmd = env
		}
		set = func(c string) { out = append(out, "--rsh="+c) }
	}
	if fields := strings.Fields(cmd); len(fields) == 0 || filepath.Base(fields[0]) != "ssh" {
		return out // another remote shell: left alone
	}
	if controlDir != "" && !strings.Contains(cmd, "ControlMaster") && !strings.Contains(cmd, "ControlPath") {
		cmd += " " + sshReuseOpts(controlDir)
	}
	set(addSSHOptions(cmd, timeouts))
	return out
}

// remoteShell finds the remote shell that rsync options choose (the last
// --rsh=CMD, --rsh CMD, -e CMD or -eCMD): its command, and a function
// that replaces it in args.
func remoteShell(args []string) (cmd string, set func(string), found bool) {
	for i := len(args) - 1; i >= 0; i-- {
		switch a := args[i]; {
		case strings.HasPrefix(a, "--rsh="):
			return a[len("--rsh="):], func(c string) { args[i] = "--rsh=" + c }, true
		case (a == "--rsh" || a == "-e") && i+1 < len(args):
			return args[i+1], func(c string) { args[i+1] = c }, true
		case strings.HasPrefix(a, "-e") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			return a[2:], func(c string) { args[i] = "-e" + c }, true
		}
	}
	return "", nil, false
}

// SSHControl is one daemon's private directory of ssh control sockets
// (Options.SSHControlDir): made for this process alone, so that stopping
// one inosync never closes another's connections.
type SSHControl struct {
	Dir string
}

// NewSSHControl makes the control directory, mode 0700, also when no
// node is remote yet: a reload may add one. It returns nil (no connection
// reuse) when the directory cannot be made (logged).
func NewSSHControl(lg zerolog.Logger) *SSHControl {
	dir, err := os.MkdirTemp("", "inosync-ssh-")
	if err != nil {
		lg.Warn().Err(err).Msg("no ssh connection reuse: cannot make a private directory for its sockets")
		return nil
	}
	return &SSHControl{Dir: dir}
}

// DirOrNone is c's directory, or "" for a nil c (no reuse).
func (c *SSHControl) DirOrNone() string {
	if c == nil {
		return ""
	}
	return c.Dir
}

// Close asks each ssh master kept for reuse to exit, so that none
// outlives the daemon by ControlPersist, and removes the directory.
func (c *SSHControl) Close() {
	if c == nil {
		return
	}
	socks, _ := filepath.Glob(filepath.Join(c.Dir, "*"))
	for _, s := range socks {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = exec.CommandContext(ctx, "ssh", "-o", "ControlPath="+s, "-O", "exit", "inosync-node").Run()
		cancel()
	}
	_ = os.RemoveAll(c.Dir)
}
