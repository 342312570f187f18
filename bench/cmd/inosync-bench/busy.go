package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// busyArg is the hidden first argument that makes the bench binary a busy
// process (busyMain) instead of the harness: the load rows re-exec the
// harness itself, so the load needs no shell and no other program.
const busyArg = "-busy-loop"

// busyMain is a busy process: one thread in a CPU-bound loop, forever. It
// says "ready" on stdout once it spins, and exits by itself when its
// parent is no longer the harness (parentPID), besides the SIGKILL it gets
// from Pdeathsig, so no busy process outlives the harness.
func busyMain(parentPID string) {
	parent, err := strconv.Atoi(parentPID)
	if err != nil {
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	if os.Getppid() != parent {
		os.Exit(0)
	}
	os.Stdout.WriteString("ready\n")
	for i := uint64(1); ; i++ {
		if i&(1<<24-1) == 0 && os.Getppid() != parent { // every few ms
			os.Exit(0)
		}
	}
}

// busySet is the busy processes of one measurement.
type busySet struct {
	procs []*exec.Cmd
	cpu0  []float64
	t0    time.Time
}

var (
	busyMu   sync.Mutex
	busyLive = map[*busySet]bool{}
)

// startBusy starts n busy processes (re-execs of this binary with
// busyArg), each at the harness's own priority, in its own process group
// and killed with SIGKILL if the harness dies, and returns once every one
// of them is spinning. stopBusy stops them; killAll does too.
func startBusy(n int) (*busySet, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &busySet{}
	busyMu.Lock()
	busyLive[s] = true
	busyMu.Unlock()
	for i := 0; i < n; i++ {
		cmd := exec.Command(self, busyArg, strconv.Itoa(os.Getpid()))
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GOGC=off")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		out, err := cmd.StdoutPipe()
		if err != nil {
			s.stop()
			return nil, err
		}
		busyMu.Lock()
		err = cmd.Start()
		if err == nil {
			s.procs = append(s.procs, cmd)
		}
		busyMu.Unlock()
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("start busy process: %w", err)
		}
		ready := make(chan error, 1)
		go func() {
			ln, err := bufio.NewReader(out).ReadString('\n')
			if err == nil && ln != "ready\n" {
				err = fmt.Errorf("said %q", ln)
			}
			ready <- err
		}()
		select {
		case err = <-ready:
		case <-time.After(5 * time.Second):
			err = errTimeout
		}
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("busy process %d not ready: %w", cmd.Process.Pid, err)
		}
	}
	s.t0 = time.Now()
	for _, c := range s.procs {
		v, _ := procCPU(c.Process.Pid)
		s.cpu0 = append(s.cpu0, v)
	}
	return s, nil
}

// share is the CPU the busy processes had since startBusy returned, as a
// percentage of len(procs) CPUs (100 = each had a CPU all the time); read
// it before stop.
func (s *busySet) share() float64 {
	el := time.Since(s.t0).Seconds()
	if len(s.procs) == 0 || el <= 0 {
		return 0
	}
	used := 0.0
	for i, c := range s.procs {
		v, err := procCPU(c.Process.Pid)
		if err != nil {
			continue
		}
		used += v - s.cpu0[i]
	}
	return 100 * used / (el * float64(len(s.procs)))
}

// stop kills every busy process of s (SIGKILL to its group) and reaps it.
// It may be called more than once.
func (s *busySet) stop() {
	busyMu.Lock()
	procs := s.procs
	s.procs = nil
	delete(busyLive, s)
	busyMu.Unlock()
	for _, c := range procs {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		_ = c.Process.Kill()
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
}

// stopAllBusy stops every busy process still running (on a signal and at
// exit, from killAll).
func stopAllBusy() {
	busyMu.Lock()
	var sets []*busySet
	for s := range busyLive {
		sets = append(sets, s)
	}
	busyMu.Unlock()
	for _, s := range sets {
		s.stop()
	}
}
