package rsync

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// command makes the exec.Cmd of one rsync run; env is added to the
// daemon's environment. kill ends rsync and every process it started (its
// receiver, its ssh), so that a hung ssh is not left behind. They stay in
// the daemon's session and process group: a session of their own would be
// a scheduling group of its own (autogroup), and on a busy machine each
// run's first slice would wait behind every other group (bench/findings.md).
func command(kill context.Context, argv []string, env []string) *exec.Cmd {
	cmd := exec.CommandContext(kill, argv[0], argv[1:]...)
	cmd.Cancel = func() error { return killTree(cmd.Process.Pid) }
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	return cmd
}

// killTree kills pid and every process below it (found through /proc),
// which it would otherwise leave running as orphans: pid is stopped first
// (SIGSTOP), so that it starts no more while they are listed, and so that
// the pids listed cannot have been reused by then (a stopped parent reaps
// nobody). A daemonized ssh master is no longer below it and is left to
// SSHControl.Close.
func killTree(pid int) error {
	_ = unix.Kill(pid, unix.SIGSTOP)
	below := descendants(pid)
	for _, p := range below {
		_ = unix.Kill(p, unix.SIGSTOP)
	}
	err := unix.Kill(pid, unix.SIGKILL)
	for _, p := range below {
		_ = unix.Kill(p, unix.SIGKILL)
	}
	return err
}

// descendants lists the processes below pid, from /proc's parent links.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The parent is the second field after the command, which is
		// in parentheses and may hold spaces.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out
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

// sshTimeouts are sshTimeouts for runs with s's I/O timeout.
func (s Settings) sshTimeouts() []string { return sshTimeouts(connectTimeout(s.Timeout)) }

// connectTimeout is ssh's ConnectTimeout for runs with the given rsync I/O
// timeout: 30 s, or the I/O timeout when that is shorter.
func connectTimeout(io time.Duration) int {
	secs := 30
	if io > 0 && io < 30*time.Second {
		secs = max(int(io/time.Second), 1)
	}
	return secs
}

// initialIdle is how long an initial run to dest may move no data before
// it is killed (see watchIdle): s.Timeout for a remote node, since the
// run's command line is 0.2.3's, without --timeout, and ssh's own time
// limits reach it only when extra names no remote shell; 0 (never) for a
// local node, or when extra sets --timeout itself.
func initialIdle(s Settings, dest string) time.Duration {
	if !IsRemote(dest) || slices.ContainsFunc(s.Extra, func(a string) bool { return strings.HasPrefix(a, "--timeout") }) {
		return 0
	}
	return s.Timeout
}

// stallEnd says, for the slow-run warnings, what ends a run that stalls:
// the idle kill of an initial run (idle > 0), rsync's --timeout of the
// later ones (timeout > 0), or nothing.
func stallEnd(initial bool, idle, timeout time.Duration) string {
	switch {
	case initial && idle > 0:
		return fmt.Sprintf("the initial sync has 0.2.3's command line, without --timeout; one that moves no data for %v is killed", idle)
	case initial:
		return "the initial sync has 0.2.3's command line, without --timeout: nothing ends it but rsync, ssh or a stop"
	case timeout > 0:
		return fmt.Sprintf("rsync's --timeout ends a transfer that moves no data for %v", timeout)
	}
	return "no timeout is set: the timeout setting, rsync's --timeout, would end a transfer that stalls"
}

// initialEnv is the environment added to an initial run: its argv is
// 0.2.3's exactly, so ssh's time limits come through RSYNC_RSH, which
// rsync reads when its command line names no remote shell. Nothing is
// added when the run is local, when extra names a remote shell, or when
// the daemon's environment sets RSYNC_RSH.
func initialEnv(s Settings, dest string) []string {
	if _, _, named := remoteShell(s.Extra); !IsRemote(dest) || named {
		return nil
	}
	if _, set := os.LookupEnv("RSYNC_RSH"); set {
		return nil
	}
	return []string{"RSYNC_RSH=" + addSSHOptions("ssh", s.sshTimeouts())}
}

// slowRunWarnings logs a warning when a run has gone on for after, and
// again each time that time has doubled (at most an hour apart), until
// the returned function is called; that function logs how long a run that
// was warned about took. ends says what ends a run that hangs (see
// stallEnd).
func slowRunWarnings(lg zerolog.Logger, after time.Duration, what, ends string) (done func()) {
	if after <= 0 {
		return func() {}
	}
	start := time.Now()
	stop := make(chan struct{})
	warned := make(chan bool, 1)
	go func() {
		t := time.NewTimer(after)
		defer t.Stop()
		said := false
		for {
			select {
			case <-stop:
				warned <- said
				return
			case <-t.C:
				said = true
				took := time.Since(start)
				lg.Warn().Dur("running_for", took).Str("run", what).
					Msgf("rsync has been running for %v: a slow node, a big transfer, or a hung node (%s)", took.Round(time.Second), ends)
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
