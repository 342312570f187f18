package rsync

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// warm is an rsync started ahead of need for a job's next list run: it has
// exec'd, forked its receiver and shaken hands, and waits for its file
// list on stdin. Handing it the list skips those 3–4 ms of a local run
// (measured: a change lands 1.1 ms after the list is written, against
// 4.9 ms for a cold start). It costs no CPU while it waits.
type warm struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *os.File // rsync's stdout and stderr (see run for why a file)
	argv   []string
	prefix string
}

// startWarm starts a list-run rsync for job j that waits for its list.
func (d *dispatcher) startWarm(j Job) (*warm, error) {
	argv, prefix := ListArgv(j.Settings, j.Path, j.Dest)
	out, err := os.CreateTemp("", "inosync-rsync-*.out")
	if err != nil {
		return nil, fmt.Errorf("rsync output file: %w", err)
	}
	_ = os.Remove(out.Name())
	cmd := exec.CommandContext(d.kill, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		_ = out.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("cannot run %s: %w", argv[0], err)
	}
	return &warm{cmd: cmd, stdin: stdin, out: out, argv: argv, prefix: prefix}, nil
}

// inPlace reports whether the warm rsync still works in the directory that
// source's transfer root names now. rsync enters it when it starts; if the
// watched directory was replaced since (a deploy by rename), the warm
// process would copy from the old one, so it must not be used.
func (w *warm) inPlace(source string) bool {
	base, _ := transferRoot(source)
	cwd, err := os.Stat(fmt.Sprintf("/proc/%d/cwd", w.cmd.Process.Pid))
	if err != nil {
		return false
	}
	dir, err := os.Stat(base)
	return err == nil && os.SameFile(cwd, dir)
}

// retire ends a warm rsync that will not be used: an empty list makes it
// transfer nothing and exit.
func (w *warm) retire() {
	_ = w.stdin.Close()
	_ = w.cmd.Wait()
	_ = w.out.Close()
}

// warmable reports whether a job's list runs may use a warm rsync: a local
// destination (a kept remote process would hold a connection that may be
// dropped while it waits) and real runs.
func (d *dispatcher) warmable(j *jobState) bool {
	return d.o.Warm && !d.o.Pretend && !IsRemote(j.Dest)
}

// warmDelay is how long after handing a warm rsync its list a job starts
// the next one. Started at once, the next one's start-up (exec, loading
// its libraries and OpenSSL's configuration, forking its receiver: 3-4 ms
// of CPU) competed with the transfer it was to speed up.
const warmDelay = 5 * time.Millisecond

// keepWarm starts a warm rsync for every job that may have one and has
// none, while the process bound leaves room (a warm rsync counts). A job
// that handed one a list less than warmDelay ago waits: a timer brings
// the loop back.
func (d *dispatcher) keepWarm() {
	now := time.Now()
	var next time.Time
	for _, j := range d.jobs {
		if d.procs() >= d.o.MaxProcs {
			return
		}
		if j.warm != nil || j.gaveUp || j.waiting || !d.warmable(j) {
			continue
		}
		if now.Before(j.warmAt) {
			if next.IsZero() || j.warmAt.Before(next) {
				next = j.warmAt
			}
			continue
		}
		w, err := d.startWarm(j.Job)
		if err != nil {
			d.o.Logger.Debug().Err(err).Str("path", j.Path).Str("node", j.Node).Msg("no warm rsync")
			continue
		}
		j.warm = w
		d.warm++
	}
	if !next.IsZero() && d.warmC == nil {
		if d.warmTimer == nil {
			d.warmTimer = time.NewTimer(next.Sub(now))
		} else {
			d.warmTimer.Reset(next.Sub(now))
		}
		d.warmC = d.warmTimer.C
	}
}

// reclaimWarm retires the warm rsync of a job other than except, to free a
// process slot; it reports whether it did.
func (d *dispatcher) reclaimWarm(except *jobState) bool {
	for _, j := range d.jobs {
		if j != except && j.warm != nil {
			j.warm.retire()
			j.warm = nil
			d.warm--
			return true
		}
	}
	return false
}

// retireAll ends every warm rsync (at the end of Dispatch).
func (d *dispatcher) retireAll() {
	for _, j := range d.jobs {
		if j.warm != nil {
			j.warm.retire()
			j.warm = nil
			d.warm--
		}
	}
}
