package config

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"golang.org/x/sys/unix"
)

// The checking child.
//
// Checks inside the evaluating process (guard) stop a config between two
// Starlark steps, but one step can ask for more memory than the machine
// has ([0] * 1000000000 is 16 GB in one allocation, and list(range(…)),
// str.replace and friends are alike), and Go cannot survive an allocation
// that fails. So Load first evaluates the config in a child process: this
// same executable, started again with childArg, sets a hard limit on its
// own memory (RLIMIT_DATA) and CPU time, evaluates, and reports. Where one
// step hits the hard limit, the child dies; the parent then runs a second
// child that reports every step's position from the last check on, and
// names the last one. Only a config that passes the child is evaluated in
// the parent, under the same in-process checks. A load takes milliseconds,
// so the child costs little.
//
// Any program that imports this package can be that child: the init
// function below takes over the process when it is started with childArg,
// before main (or a test's TestMain) runs.

// childArg is the first argument that makes the process a checking child.
const childArg = "__inosync-config-check-child__"

// childGrace is how long the parent waits beyond the time limit before it
// kills the child (the child stops itself at the limit, between steps).
const childGrace = 2 * time.Second

func init() {
	if len(os.Args) == 2 && os.Args[1] == childArg {
		os.Exit(childMain(os.Stdin, os.Stdout))
	}
}

// childRequest is what the parent sends the child on its standard input.
type childRequest struct {
	Path      string
	Cwd       string
	Env       map[string]string
	Hostname  string
	MaxSteps  uint64
	MaxMemory uint64
	Timeout   time.Duration
	// Locate: report the position of every operation before it runs
	// (the locating run after a child died; see marker).
	Locate bool
}

// childLine is one line the child writes on its standard output.
type childLine struct {
	// At is the position being evaluated.
	At   *childPos `json:",omitempty"`
	Done bool      `json:",omitempty"`
	Err  *Error    `json:",omitempty"` // with Done: the config error, if any
	// Fail is an error that is not an *Error.
	Fail string `json:",omitempty"`
}

// childMain is the child's whole life; it returns the exit status.
func childMain(in io.Reader, out io.Writer) int {
	var req childRequest
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "inosync: %s is for inosync's own use: %v\n", childArg, err)
		return 2
	}
	limitSelf(req)
	enc := json.NewEncoder(out)
	opts := Options{Cwd: req.Cwd, Env: req.Env, Hostname: req.Hostname, MaxSteps: req.MaxSteps,
		MaxMemory: req.MaxMemory, Timeout: req.Timeout, SameProcess: true}
	if err := opts.fill(); err != nil {
		_ = enc.Encode(childLine{Done: true, Fail: err.Error()})
		return 0
	}
	l := newLoader(req.Path, opts)
	if req.Locate {
		l.mark = &marker{l: l, report: func(p *childPos) { _ = enc.Encode(childLine{At: p}) }}
	} else {
		l.guard.progress = childProgress(enc, l.where)
	}
	_, err := l.load()
	var ce *Error
	switch {
	case err == nil:
		_ = enc.Encode(childLine{Done: true})
	case errors.As(err, &ce):
		_ = enc.Encode(childLine{Done: true, Err: ce})
	default:
		_ = enc.Encode(childLine{Done: true, Fail: err.Error()})
	}
	return 0
}

// limitSelf sets the child's hard limits: its data segment may grow by
// about MaxMemory and a half beyond what it uses now (so that the guard's
// own check usually stops a growing config first, with its position), and
// it may use the CPU for the time limit and the grace (the kernel kills it
// then, even if its parent is gone).
func limitSelf(req childRequest) {
	debug.SetMemoryLimit(int64(req.MaxMemory) + 64<<20) // collect hard before the limit
	data := vmData() + req.MaxMemory + req.MaxMemory/2 + 64<<20
	_ = unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: data, Max: data})
	cpu := uint64((req.Timeout + childGrace).Seconds()) + 1
	_ = unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: cpu, Max: cpu + 1})
}

// vmData is the process's data segment size (VmData), in bytes.
func vmData() uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmData:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// childProgress reports the position being evaluated, at most every
// 100 ms, for a child that the time limit stops in one long operation.
func childProgress(enc *json.Encoder, where func(*starlark.Thread) *childPos) func(*starlark.Thread) {
	var last time.Time
	return func(th *starlark.Thread) {
		if time.Since(last) > 100*time.Millisecond {
			last = time.Now()
			_ = enc.Encode(childLine{At: where(th)})
		}
	}
}

// childPos is a position in the user's own text.
type childPos struct {
	File      string
	Line, Col int32
}

// where is the position th is evaluating (its innermost Starlark frame),
// mapped back to the user's text; nil when there is none.
func (l *loader) where(th *starlark.Thread) *childPos {
	for i := range th.CallStackDepth() {
		if fr := th.CallFrame(i); fr.Pos.Filename() != "<builtin>" && fr.Pos.IsValid() {
			e := l.at(fr.Pos, "")
			return &childPos{e.File, e.Line, e.Col}
		}
	}
	return nil
}

// childResult is what one child run told.
type childResult struct {
	done     bool
	err      error     // the config's error, when done
	at       *childPos // the last position reported
	killed   bool      // stopped at the time limit by the parent
	crash    string    // the first line of its standard error, when not done
	exitCode int
}

// runChild runs one checking child on req.
func runChild(req childRequest) (*childResult, error) {
	res := &childResult{}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), req.Timeout+childGrace)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe", childArg)
	cmd.Stdin = bytes.NewReader(in)
	// No goroutine dump when the child dies of its limit: the first line
	// says why. A race-detector build would wait a second at exit.
	cmd.Env = append(os.Environ(), "GOTRACEBACK=none", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line childLine
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch {
		case line.Done && line.Err != nil:
			res.done, res.err = true, line.Err
		case line.Done && line.Fail != "":
			res.done, res.err = true, errors.New(line.Fail)
		case line.Done:
			res.done = true
		}
		if line.At != nil {
			res.at = line.At
		}
	}
	werr := cmd.Wait()
	res.killed = ctx.Err() != nil
	if !res.done {
		res.crash, _, _ = strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			res.exitCode = ee.ExitCode()
		}
	}
	return res, nil
}

// checkInChild evaluates the config at path in a checking child and
// returns its error, if any.
func checkInChild(path string, opts Options) error {
	req := childRequest{Path: path, Cwd: opts.Cwd, Env: opts.Env, Hostname: opts.Hostname,
		MaxSteps: opts.MaxSteps, MaxMemory: opts.MaxMemory, Timeout: opts.Timeout}
	res, err := runChild(req)
	if err != nil {
		return &Error{File: path, Msg: fmt.Sprintf("cannot start the process that checks the config: %v", err)}
	}
	switch {
	case res.done:
		return res.err
	case res.killed:
		msg, hint := timeMessage(opts.Timeout)
		return childError(path, res.at, msg+" (stopped during one long operation, at or after this place)", hint)
	case !outOfMemory(res.crash):
		return &Error{File: path, Msg: fmt.Sprintf("the process that checks the config ended unexpectedly (exit status %d: %s)", res.exitCode, res.crash)}
	}
	// One operation asked for more memory than allowed: find which, by
	// running the config again with markers (see marker).
	req.Locate = true
	trace, err := runChild(req)
	at := res.at
	if err == nil && !trace.done && trace.at != nil {
		at = trace.at
	}
	msg, hint := memoryMessage(opts.MaxMemory)
	return childError(path, at, msg, hint)
}

// outOfMemory reports whether a child's first words of dying say it ran
// out of memory (its data limit, or a stack that could not grow; "failed
// to allocate" is the race detector's words).
func outOfMemory(crash string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "failed to allocate", "stack exceeds", "stack overflow"} {
		if strings.Contains(crash, s) {
			return true
		}
	}
	return false
}

// childError places msg at the position the child reported, or at the
// file alone when it reported none.
func childError(path string, at *childPos, msg, hint string) *Error {
	if at == nil {
		return &Error{File: path, Msg: msg, Hint: hint}
	}
	return &Error{File: at.File, Line: at.Line, Col: at.Col, Msg: msg, Hint: hint}
}

// limitedBuffer keeps the first 64 KiB written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
