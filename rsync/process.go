package rsync

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// command makes the exec.Cmd of one rsync run. rsync and what it starts
// (its receiver, ssh) run in a session of their own: kill ends the whole
// group, so that a hung ssh is not left behind, and with no controlling
// terminal an ssh that wants a password or a host key answer fails at once
// instead of stopping the group on a read from the terminal. env is added
// to the daemon's environment.
func command(kill context.Context, argv []string, env []string) *exec.Cmd {
	cmd := exec.CommandContext(kill, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		// The group's id is rsync's pid (Setsid): kill every process
		// in it, rsync first among them.
		if err := unix.Kill(-cmd.Process.Pid, unix.SIGKILL); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	return cmd
}

// sshTimeouts are the ssh options that bound how long ssh waits: for the
// connection and the server's greeting (ConnectTimeout), and for a server
// that stops answering once connected (ServerAlive*: 4 missed answers 15 s
// apart end the connection). connect is ConnectTimeout in seconds.
func sshTimeouts(connect int) []string {
	return []string{
		"ConnectTimeout=" + strconv.Itoa(connect),
		"ServerAliveInterval=15",
		"ServerAliveCountMax=4",
	}
}

// addSSHOptions appends "-o NAME=VALUE" for each of opts whose NAME the
// ssh command line cmd does not set already (ssh takes the first value it
// sees, so the user's own wins either way; this keeps the line readable).
func addSSHOptions(cmd string, opts []string) string {
	lower := strings.ToLower(cmd)
	for _, o := range opts {
		name, _, _ := strings.Cut(o, "=")
		if !strings.Contains(lower, strings.ToLower(name)) {
			cmd += " -o " + o
		}
	}
	return cmd
}

// connectTimeout is ssh's ConnectTimeout for runs with the given rsync I/O
// timeout: 30 s, or the I/O timeout when that is shorter.
func connectTimeout(io time.Duration) int {
	secs := 30
	if io > 0 && io < 30*time.Second {
		secs = max(int(io/time.Second), 1)
	}
	return secs
}

// initialEnv is the environment added to an initial run: its argv is
// 0.2.3's exactly, so ssh's time limits come through RSYNC_RSH, which
// rsync reads when its command line names no remote shell. Nothing is
// added when the run is local, when extra names a remote shell, or when
// the daemon's environment sets RSYNC_RSH.
func initialEnv(s Settings, dest string) []string {
	if !IsRemote(dest) || hasRsh(s.Extra) {
		return nil
	}
	if _, set := os.LookupEnv("RSYNC_RSH"); set {
		return nil
	}
	return []string{"RSYNC_RSH=" + addSSHOptions("ssh", sshTimeouts(connectTimeout(s.Timeout)))}
}

// hasRsh reports whether rsync options name a remote shell (-e, --rsh).
func hasRsh(extra []string) bool {
	for _, a := range extra {
		if a == "--rsh" || strings.HasPrefix(a, "--rsh=") ||
			(strings.HasPrefix(a, "-e") && !strings.HasPrefix(a, "--")) {
			return true
		}
	}
	return false
}

// slowRunWarnings logs a warning when a run has gone on for after, and
// again each time that time has doubled (at most an hour apart), until
// the returned function is called; that function logs how long a run that
// was warned about took.
func slowRunWarnings(lg zerolog.Logger, after time.Duration, what string) (done func()) {
	if after <= 0 {
		return func() {}
	}
	start := time.Now()
	stop := make(chan struct{})
	warned := make(chan bool, 1)
	go func() {
		t := time.NewTimer(after)
		defer t.Stop()
		any := false
		for {
			select {
			case <-stop:
				warned <- any
				return
			case <-t.C:
				any = true
				took := time.Since(start)
				lg.Warn().Dur("running_for", took).Str("run", what).
					Msgf("rsync has been running for %v: a slow node, a big transfer, or a hung node (the timeout setting, rsync's --timeout, ends a transfer that stalls)", took.Round(time.Second))
				t.Reset(min(took, time.Hour))
			}
		}
	}()
	return func() {
		close(stop)
		if <-warned {
			lg.Info().Dur("took", time.Since(start)).Str("run", what).Msg("the slow rsync run has ended")
		}
	}
}
