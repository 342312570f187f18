package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ: /proc/PID/stat counts utime and stime in these.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procCPU returns utime+stime of the whole process (all its threads, live
// and exited; children are not included) in seconds, from /proc/PID/stat.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After the comm field: state(3) ppid(4) … utime(14) stime(15).
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return float64(u+s) / clockTicks, nil
}

// procStatusKB returns a "Key:   N kB" field of /proc/PID/status in kB.
func procStatusKB(pid int, key string) (int64, error) {
	return fileKB(fmt.Sprintf("/proc/%d/status", pid), key)
}

// fileKB returns a "Key:   N kB" field of a /proc file in kB.
func fileKB(path, key string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, ln := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(ln, key+":") {
			f := strings.Fields(ln[len(key)+1:])
			if len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// taskCounters sums over every live thread of pid: voluntary and
// involuntary context switches (/proc/PID/task/TID/status) and time on a
// CPU in ns (/proc/PID/task/TID/schedstat). /proc/PID/status alone shows
// only the main thread, which for a Go program is mostly asleep.
func taskCounters(pid int) (vol, invol, runNS int64, err error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	for _, t := range tasks {
		dir := fmt.Sprintf("/proc/%d/task/%s", pid, t.Name())
		if b, e := os.ReadFile(dir + "/status"); e == nil {
			for _, ln := range strings.Split(string(b), "\n") {
				f := strings.Fields(ln)
				if len(f) != 2 {
					continue
				}
				n, _ := strconv.ParseInt(f[1], 10, 64)
				switch f[0] {
				case "voluntary_ctxt_switches:":
					vol += n
				case "nonvoluntary_ctxt_switches:":
					invol += n
				}
			}
		}
		if b, e := os.ReadFile(dir + "/schedstat"); e == nil {
			f := strings.Fields(string(b))
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				runNS += n
			}
		}
	}
	return vol, invol, runNS, nil
}

// children lists the direct children of pid, from every thread's
// /proc/PID/task/TID/children (a Go program forks from any thread).
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// childSignature describes pid's children and the CPU ticks each has used,
// so that a change in either shows as a different string.
func childSignature(pid int) string {
	var b strings.Builder
	for _, c := range children(pid) {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c))
		if err != nil {
			fmt.Fprintf(&b, "%d:gone ", c)
			continue
		}
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) > 12 {
			fmt.Fprintf(&b, "%d:%s+%s ", c, f[11], f[12])
		}
	}
	return b.String()
}
