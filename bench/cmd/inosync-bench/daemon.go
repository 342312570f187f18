package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"
)

const (
	kindInosync = "inosync"
	kindLsyncd  = "lsyncd"
	// kindAlt is a second inosync binary (-inosync-alt), run like inosync
	// and shown beside it, outside the targets: a daemon built with and
	// without one change, compared in the same run.
	kindAlt = "inosync-alt"
	// kindFan is inosync with watcher = "fanotify" (the scale rows).
	kindFan = "inosync-fanotify"
	// kindNoWarm is inosync with warm_rsync = False: every run starts
	// rsync when it is needed (the load rows, to show what warm rsyncs
	// buy).
	kindNoWarm = "inosync-nowarm"
	// kindAllProcs is inosync with GOMAXPROCS set to the number of CPUs,
	// the Go runtime's default: no longer on one processor, and so
	// without the intake pace either (the load rows, to show what one
	// processor buys).
	kindAllProcs = "inosync-gomaxprocs"
)

// trickKinds are inosync with one of its timing tricks turned off.
var trickKinds = []string{kindNoWarm, kindAllProcs}

// isInosync says whether kind is one of the inosync binaries.
func isInosync(kind string) bool {
	return kind == kindInosync || kind == kindAlt || kind == kindFan || slices.Contains(trickKinds, kind)
}

var errTimeout = errors.New("timeout")

// daemon is one running inosync or lsyncd, in its own process group.
type daemon struct {
	kind     string
	cmd      *exec.Cmd
	pid      int
	launched time.Time // just before fork/exec
	// watching is launch → inosync's "watching" line, once waitReady saw
	// it (its watches in place; read it after waitReady returns).
	watching time.Duration
	logPath  string
	exited   chan struct{}
	waitErr  error
}

var (
	liveMu sync.Mutex
	live   = map[*daemon]bool{}
)

// killAll stops every busy process and every daemon still running (used
// on a signal and at exit).
func killAll() {
	stopAllBusy()
	liveMu.Lock()
	ds := make([]*daemon, 0, len(live))
	for d := range live {
		ds = append(ds, d)
	}
	liveMu.Unlock()
	for _, d := range ds {
		d.stop()
	}
}

// launch writes the daemon's config under runDir and starts it on src → dst
// (a local target, delay 0). Both get the same treatment: own process
// group, stdout/stderr to files, SIGKILL if the harness dies.
func (b *bench) launch(kind, src, dst string) (*daemon, error) {
	return b.launchTo(kind, src, dst, nil)
}

// launchTo is launch with dst on node when node is not nil: inosync
// reaches it as root@127.0.0.1, lsyncd with default.rsyncssh (which moves
// and deletes through ssh), both through node's ssh.
func (b *bench) launchTo(kind, src, dst string, node *sshNode) (*daemon, error) {
	b.seq++
	runDir := filepath.Join(b.tmp, "runs", fmt.Sprintf("%03d-%s", b.seq, kind))
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, err
	}
	d := &daemon{kind: kind, exited: make(chan struct{})}
	var cmd *exec.Cmd
	var extraEnv []string // added to the daemon's environment
	var out *os.File
	var err error
	switch kind {
	case kindInosync, kindAlt, kindFan, kindNoWarm, kindAllProcs:
		bin := b.inosyncBin
		if kind == kindAlt {
			bin = b.inosyncAltBin
		}
		cfg := filepath.Join(runDir, "bench.py")
		text := fmt.Sprintf("wpaths = [%q]\nrpaths = [%q]\nrnodes = [\"\"]\nedelay = 0\n", src+"/", dst+"/")
		if node != nil {
			// --stats: every run logs what rsync sent.
			text = fmt.Sprintf("wpaths = [%q]\nrpaths = [\"/\"]\nrnodes = [%q]\nedelay = 0\nextra = \"--stats\"\n", src+"/", "root@127.0.0.1:"+dst)
		}
		// The control socket goes with the run's directory: a daemon the
		// harness kills leaves it behind.
		text += fmt.Sprintf("control_socket = %q\n", filepath.Join(runDir, "ctl.sock"))
		switch kind {
		case kindFan:
			text += "watcher = \"fanotify\"\n"
		case kindNoWarm:
			text += "warm_rsync = False\n"
		}
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			return nil, err
		}
		d.logPath = filepath.Join(runDir, "inosync.log")
		if out, err = os.Create(d.logPath); err != nil {
			return nil, err
		}
		cmd = exec.Command(bin, "-c", cfg, "--log-format=json")
		if kind == kindAllProcs {
			extraEnv = []string{fmt.Sprintf("GOMAXPROCS=%d", runtime.NumCPU())}
		}
		cmd.Stdout = io.Discard
		cmd.Stderr = out
	case kindLsyncd:
		cfg := filepath.Join(runDir, "bench.lua")
		d.logPath = filepath.Join(runDir, "lsyncd.log")
		text := fmt.Sprintf("settings{ nodaemon = true, logfile = %q, insist = true }\n"+
			"sync{ default.rsync, source = %q, target = %q, delay = 0 }\n", d.logPath, src, dst)
		if node != nil {
			text = fmt.Sprintf("settings{ nodaemon = true, logfile = %q, insist = true }\n"+
				"sync{ default.rsyncssh, source = %q, host = \"127.0.0.1\", targetdir = %q, delay = 0, ssh = { binary = %q }, rsync = { rsh = %q } }\n",
				d.logPath, src, dst, node.ssh, node.ssh)
		}
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			return nil, err
		}
		// lsyncd writes every log line to stdout too with nodaemon; that
		// copy goes to a file (errors before the logfile opens land there).
		if out, err = os.Create(filepath.Join(runDir, "lsyncd.stdout")); err != nil {
			return nil, err
		}
		if err := os.WriteFile(d.logPath, nil, 0o644); err != nil {
			return nil, err
		}
		cmd = exec.Command(b.lsyncdBin, cfg)
		cmd.Stdout = out
		cmd.Stderr = out
	default:
		return nil, fmt.Errorf("unknown daemon %q", kind)
	}
	cmd.Dir = runDir
	switch {
	case node != nil:
		cmd.Env = append(node.env(), extraEnv...)
	case len(extraEnv) > 0:
		cmd.Env = append(os.Environ(), extraEnv...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	d.cmd = cmd
	d.launched = time.Now()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}
	out.Close() // the child holds its own copy
	d.pid = cmd.Process.Pid
	liveMu.Lock()
	live[d] = true
	liveMu.Unlock()
	go func() {
		d.waitErr = cmd.Wait()
		close(d.exited)
	}()
	return d, nil
}

// problems returns how many warning or error lines the daemon logged, and
// the first of them: inosync's JSON lines at level warn or above, lsyncd's
// "Error", "Warn" and "OVERFLOW" lines.
func (d *daemon) problems() (int, string) {
	n, first := 0, ""
	for _, ln := range d.logFrom(0) {
		bad := false
		if isInosync(d.kind) {
			bad = bytes.Contains(ln, []byte(`"level":"warn"`)) || bytes.Contains(ln, []byte(`"level":"error"`)) ||
				bytes.Contains(ln, []byte(`"level":"fatal"`)) || bytes.Contains(ln, []byte(`"level":"panic"`))
		} else {
			bad = bytes.Contains(ln, []byte("Error")) || bytes.Contains(ln, []byte("Warn")) || bytes.Contains(ln, []byte("OVERFLOW"))
		}
		if bad {
			if n == 0 {
				first = string(ln)
				if len(first) > 300 {
					first = first[:300] + "…"
				}
			}
			n++
		}
	}
	return n, first
}

// stop kills the daemon's whole process group (the daemon and its rsyncs)
// and waits for the daemon to be reaped.
func (d *daemon) stop() {
	_ = syscall.Kill(-d.pid, syscall.SIGKILL)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
	}
	// rsync grandchildren share the group; make sure none lingers.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && syscall.Kill(-d.pid, 0) == nil {
		_ = syscall.Kill(-d.pid, syscall.SIGKILL)
		time.Sleep(5 * time.Millisecond)
	}
	liveMu.Lock()
	delete(live, d)
	liveMu.Unlock()
}

func (d *daemon) alive() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// logSize is the current size of the daemon's log.
func (d *daemon) logSize() int64 {
	st, err := os.Stat(d.logPath)
	if err != nil {
		return 0
	}
	return st.Size()
}

// logFrom returns the complete lines of the log from offset on.
func (d *daemon) logFrom(off int64) [][]byte {
	f, err := os.Open(d.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil
	}
	data, _ := io.ReadAll(f)
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	} else {
		return nil
	}
	return bytes.Split(data, []byte("\n"))
}

// logTail returns the last n bytes of the log, for error messages.
func (d *daemon) logTail(n int) string {
	data, _ := os.ReadFile(d.logPath)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

type inosyncLine struct {
	Message string `json:"message"`
	Full    bool   `json:"full"`
	Exit    int    `json:"exit"`
	Files   int    `json:"files"`
}

// isRsyncRun tells whether a log line reports one rsync run: inosync's
// "message":"rsync" (logged when the run ends), lsyncd's "Calling rsync"
// (logged when an event run starts; the startup rsync logs
// "recursive startup rsync" instead and is not counted).
func (d *daemon) isRsyncRun(line []byte) bool {
	if d.kind == kindLsyncd {
		return bytes.Contains(line, []byte("Calling rsync"))
	}
	if !bytes.Contains(line, []byte(`"rsync"`)) {
		return false
	}
	var l inosyncLine
	return json.Unmarshal(line, &l) == nil && l.Message == "rsync"
}

// countRuns counts rsync runs logged from offset on.
func (d *daemon) countRuns(off int64) int {
	n := 0
	for _, ln := range d.logFrom(off) {
		if d.isRsyncRun(ln) {
			n++
		}
	}
	return n
}

// waitReady polls the log until the daemon is live: lsyncd logs
// "Startup of SRC -> DST finished." after its startup rsync; inosync logs
// "watching" once its watches exist and then one "rsync" line with
// full=true when the initial sync has ended. It returns launch → ready.
func (d *daemon) waitReady(timeout time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	var off int64
	watching := false
	for {
		size := d.logSize()
		if size > off {
			lines := d.logFrom(off)
			for _, ln := range lines {
				off += int64(len(ln)) + 1
				switch d.kind {
				case kindLsyncd:
					if bytes.Contains(ln, []byte("Startup of")) && bytes.Contains(ln, []byte("finished")) {
						return time.Since(d.launched), nil
					}
				default: // inosync, in each of its kinds
					var l inosyncLine
					if json.Unmarshal(ln, &l) != nil {
						continue
					}
					if l.Message == "watching" && !watching {
						watching = true
						d.watching = time.Since(d.launched)
					}
					if watching && l.Message == "rsync" && l.Full && (l.Exit == 0 || l.Exit == 24) {
						return time.Since(d.launched), nil
					}
				}
			}
		}
		if !d.alive() {
			return 0, fmt.Errorf("%s exited before it was ready (%v); log tail:\n%s", d.kind, d.waitErr, d.logTail(1500))
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s not ready after %v: %w", d.kind, timeout, errTimeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitQuiet waits until the daemon has no child process and its log has
// not grown for quiet, or until timeout.
func (d *daemon) waitQuiet(quiet, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	lastSize, lastKids := d.logSize(), childSignature(d.pid)
	since := time.Now()
	for {
		// Quiet: the log does not grow and the children neither come, go
		// nor use CPU. A child that waits without using CPU (inosync's warm
		// rsync, blocked on its file list) does not count as busy.
		size, kids := d.logSize(), childSignature(d.pid)
		if size != lastSize || kids != lastKids {
			lastSize, lastKids = size, kids
			since = time.Now()
		}
		if time.Since(since) >= quiet {
			return nil
		}
		if !d.alive() {
			return fmt.Errorf("%s exited", d.kind)
		}
		if time.Now().After(deadline) {
			return errTimeout
		}
		time.Sleep(10 * time.Millisecond)
	}
}
