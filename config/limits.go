package config

import (
	"fmt"
	"runtime/metrics"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Limits of evaluating a config, so that a mistake in one (or a hostile
// one) cannot take the machine down. A config normally loads in
// milliseconds, in a few megabytes.
const (
	// DefaultMaxMemory bounds how much the heap may grow while a config
	// is evaluated.
	DefaultMaxMemory = 512 << 20
	// DefaultTimeout bounds the wall-clock time of evaluating a config.
	DefaultTimeout = 10 * time.Second
	// MaxSourceSize bounds the size of a config file (and of each module
	// it imports).
	MaxSourceSize = 4 << 20
	// MaxDepth bounds how deep an expression may nest (the parser has
	// the same bound for brackets).
	MaxDepth = 1000
	// MaxCallDepth bounds how deep functions may call each other.
	MaxCallDepth = 10_000
	// HookTimeout bounds the wall-clock time of one hook call.
	HookTimeout = time.Second
)

// checkEvery is the number of Starlark steps between two checks of the
// clock and the heap: a check costs about a microsecond, a step tens of
// nanoseconds.
const checkEvery = 10_000

// stop kinds: why a guard cancelled an evaluation.
const (
	stopSteps  = "too many steps"
	stopTime   = "time limit"
	stopMemory = "memory limit"
	stopCalls  = "call depth limit"
)

// guard bounds one evaluation from inside the evaluating goroutine: the
// thread's step limit is raised checkEvery steps at a time, and each time
// the clock, the heap and the call depth are checked. A check that fails
// cancels the thread, so the evaluation ends in an *starlark.EvalError at
// the position being evaluated.
type guard struct {
	maxSteps uint64
	deadline time.Time
	timeout  time.Duration
	maxMem   uint64 // 0 = no heap check
	memBase  uint64
	samples  []metrics.Sample
	stopped  string // the stop kind, once cancelled
	// progress, when set, is told of each check (the checking child
	// reports to its parent through it).
	progress func(th *starlark.Thread)
}

// memory is the Go heap and stacks in use, in bytes. runtime/metrics reads
// it without stopping the world.
func (g *guard) memory() uint64 {
	if g.samples == nil {
		g.samples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	}
	metrics.Read(g.samples)
	var n uint64
	for _, s := range g.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			n += s.Value.Uint64()
		}
	}
	return n
}

// newGuard starts the bounds of one evaluation now; maxMem 0 turns the
// heap check off.
func newGuard(maxSteps uint64, timeout time.Duration, maxMem uint64) *guard {
	g := &guard{maxSteps: maxSteps, timeout: timeout, deadline: time.Now().Add(timeout), maxMem: maxMem}
	if maxMem > 0 {
		g.memBase = g.memory()
	}
	return g
}

// attach makes th checked by g.
func (g *guard) attach(th *starlark.Thread) {
	th.SetMaxExecutionSteps(min(checkEvery, g.maxSteps))
	th.OnMaxSteps = g.check
}

// check is the thread's OnMaxSteps.
func (g *guard) check(th *starlark.Thread) {
	switch {
	case th.ExecutionSteps() >= g.maxSteps:
		g.stop(th, stopSteps)
		return
	case time.Now().After(g.deadline):
		g.stop(th, stopTime)
		return
	case g.maxMem > 0 && g.memory() > g.memBase+g.maxMem:
		g.stop(th, stopMemory)
		return
	case th.CallStackDepth() > MaxCallDepth:
		g.stop(th, stopCalls)
		return
	}
	if g.progress != nil {
		g.progress(th)
	}
	th.SetMaxExecutionSteps(min(th.ExecutionSteps()+checkEvery, g.maxSteps))
}

func (g *guard) stop(th *starlark.Thread, kind string) {
	if g.stopped == "" {
		g.stopped = kind
	}
	th.Cancel(kind)
}

// message says in words why the guard stopped an evaluation, and what to
// do; "" when it did not.
func (g *guard) message(maxSteps uint64) (msg, hint string) {
	switch g.stopped {
	case stopSteps:
		return fmt.Sprintf("the config did not finish within %d steps (an endless loop?)", maxSteps), ""
	case stopTime:
		return timeMessage(g.timeout)
	case stopMemory:
		return memoryMessage(g.maxMem)
	case stopCalls:
		return fmt.Sprintf("functions call each other more than %d deep (an endless recursion?)", MaxCallDepth), ""
	}
	return "", ""
}

func timeMessage(timeout time.Duration) (string, string) {
	return fmt.Sprintf("the config did not finish within %v (a loop that does too much, or numbers grown huge?)", timeout),
		"a config normally loads in milliseconds; inosync stops one that runs longer so that a mistake cannot hang it"
}

func memoryMessage(limit uint64) (string, string) {
	return fmt.Sprintf("the config needs more than %s of memory here (a list, string or number grown too large?)", mib(limit)),
		"inosync stops a config at that size so that a mistake cannot take the machine down; make the value smaller"
}

func mib(n uint64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkDepth reports the first expression of f nested deeper than
// MaxDepth (a long chain like 1 + 1 + … nests to the left; the resolver
// and compiler would overflow the stack on it). The walk stops descending
// at the limit, so it cannot overflow itself.
func checkDepth(f *syntax.File) (syntax.Position, bool) {
	depth := 0
	var deep syntax.Node
	syntax.Walk(f, func(n syntax.Node) bool {
		if n == nil { // Walk's call after a node's children
			depth--
			return true
		}
		if deep != nil {
			return false
		}
		if depth >= MaxDepth {
			deep = n
			return false // Walk calls no f(nil) for it
		}
		depth++
		return true
	})
	if deep == nil {
		return syntax.Position{}, false
	}
	start, _ := deep.Span()
	return start, true
}

// hasNUL reports whether s holds a NUL byte: no path, pattern or argument
// can, and the kernel would refuse or cut it.
func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// nulMessage is the message for a setting whose value holds a NUL byte.
func nulMessage(what, value string) string {
	return fmt.Sprintf("%s %q holds a NUL byte (\\x00): no path, pattern or rsync option can contain one (remove it)", what, value)
}
