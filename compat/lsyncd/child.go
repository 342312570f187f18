package lsyncd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The converting child.
//
// evaluate stops the Lua between two instructions, but one call of a
// library function can run long or ask for more memory than the machine
// has (table.concat of many copies of a long string, string.format with a
// huge width, a pattern that backtracks for ever), and Go cannot survive
// an allocation that fails. So ConvertFile converts in a child process:
// this same executable, started again with childArg, sets hard limits on
// its own memory (RLIMIT_DATA) and CPU time, converts, and reports. Any
// program that imports this package can be that child: the init function
// below takes over the process when it is started with childArg.

// childArg is the only argument of a converting child.
const childArg = "__inosync-lsyncd-convert-child__"

// childData bounds a child's data segment: the limit of evaluate's heap
// check with room for the Go runtime; an allocation past it fails, and
// the child dies.
const childData = 1 << 30

func init() {
	if len(os.Args) == 2 && os.Args[1] == childArg {
		os.Exit(childMain(os.Stdin, os.Stdout))
	}
}

// childRequest is what a child converts; childResult what it reports.
type childRequest struct {
	Name   string
	Src    []byte
	Limits Limits
}

type childResult struct {
	Out []byte
	Err string
}

// childMain is a child's work: read the request, limit itself, convert,
// report.
func childMain(in io.Reader, out io.Writer) int {
	var req childRequest
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "inosync: %s is for inosync's own use: %v\n", childArg, err)
		return 2
	}
	cpu := uint64(math.Ceil(req.Limits.Timeout.Seconds())) + 1
	_ = unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: cpu, Max: cpu + 1})
	_ = unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: childData, Max: childData})
	var res childResult
	b, err := Convert(req.Name, req.Src, req.Limits)
	res.Out = b
	if err != nil {
		res.Err = err.Error()
	}
	if err := json.NewEncoder(out).Encode(res); err != nil {
		return 1
	}
	return 0
}

// convertInChild runs Convert in a child process (see above) and says,
// when the child dies, whether time or memory ran out.
func convertInChild(name string, src []byte, lim Limits) ([]byte, error) {
	req, err := json.Marshal(childRequest{Name: name, Src: src, Limits: lim})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe", childArg)
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res childResult
	if runErr == nil && json.Unmarshal(stdout.Bytes(), &res) == nil {
		if res.Err != "" {
			return nil, errors.New(res.Err)
		}
		return res.Out, nil
	}
	var ee *exec.ExitError
	signaled := false
	if errors.As(runErr, &ee) {
		ws, ok := ee.Sys().(syscall.WaitStatus)
		signaled = ok && ws.Signaled()
	}
	switch {
	case memoryRanOut(stderr.String()):
		return nil, fmt.Errorf("%s: evaluating it took more than %d MiB of memory; is there a string or table grown too large?", name, childData>>20)
	case ctx.Err() != nil || signaled:
		return nil, fmt.Errorf("%s: evaluating it took longer than %v; is there a loop that never ends?", name, lim.Timeout)
	}
	tail := strings.TrimSpace(stderr.String())
	if i := strings.IndexByte(tail, '\n'); i >= 0 {
		tail = tail[:i] // the first line says what; a stack dump follows
	}
	return nil, fmt.Errorf("%s: converting it failed: %v: %s", name, runErr, tail)
}

// memoryRanOut reports whether a child's dying words say that its data
// limit was reached ("failed to allocate" is the race detector's words).
func memoryRanOut(crash string) bool {
	return strings.Contains(crash, "out of memory") || strings.Contains(crash, "cannot allocate memory") ||
		strings.Contains(crash, "failed to allocate")
}
