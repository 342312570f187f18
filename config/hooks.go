package config

import (
	"errors"
	"fmt"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// HookSteps bounds the Starlark steps of one hook call: a hook runs per
// event, so a runaway one must end quickly.
const HookSteps = 100_000

// Event is what event_filter and a sync's filter see of a change.
type Event struct {
	Path   string // relative to the tree, '/'-separated, no leading '/'
	Source string // the watched path
	Name   string // the inotify name: IN_CREATE, IN_MODIFY, IN_DELETE, IN_MOVED_FROM, IN_ATTRIB
	IsDir  bool
}

// ExcludeFunc is an exclude hook: true leaves the path out.
type ExcludeFunc func(rel string, isDir bool) (bool, error)

// FilterFunc is an event filter: false ignores the event.
type FilterFunc func(Event) (bool, error)

// HookError is a hook call that failed: an error, a wrong return type or
// too many steps. Where is the hook's file:line; the caller treats the
// path as not excluded (when in doubt, sync).
type HookError struct {
	Where string // file:line of the hook's def or lambda
	Hook  string // "exclude", "event_filter", "sync(exclude=…)", "sync(filter=…)"
	Msg   string
}

func (e *HookError) Error() string {
	return fmt.Sprintf("%s: %s hook failed: %s", e.Where, e.Hook, e.Msg)
}

// hook is a frozen Starlark callable the daemon calls from any goroutine,
// each call on a fresh thread with a step limit.
type hook struct {
	fn    starlark.Callable
	name  string
	where string
	orig  func(syntax.Position) place // maps a rewritten position back
	// timeout bounds the wall-clock time of one call.
	timeout time.Duration
}

// newHook checks a hook's parameter count and wraps it.
func (b *builder) newHook(v starlark.Value, name string, params int, what string) (*hook, error) {
	fn, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s must be a function (def or lambda) taking %s, got %s", name, what, describe(v))
	}
	h := &hook{fn: fn, name: name, where: b.src.name, orig: b.orig, timeout: b.l.opts.HookTimeout}
	if f, ok := fn.(*starlark.Function); ok {
		if pos := f.Position(); pos.IsValid() {
			h.where = fmt.Sprintf("%s:%d", pos.Filename(), b.orig(pos).line)
		}
		if f.NumParams() != params && !f.HasVarargs() {
			return nil, fmt.Errorf("%s must take %s, but the function at %s takes %d parameter%s", name, what, h.where, f.NumParams(), plural(f.NumParams()))
		}
	}
	fn.Freeze()
	return h, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// call runs the hook and wants a bool back.
func (h *hook) call(args starlark.Tuple) (bool, error) {
	th := &starlark.Thread{Name: h.name}
	g := newGuard(HookSteps, h.timeout, 0) // no heap check: other goroutines allocate too
	g.attach(th)
	v, err := starlark.Call(th, h.fn, args, nil)
	if err != nil {
		msg := err.Error()
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			msg = ee.Msg
			switch g.stopped {
			case stopSteps:
				// A loop's position is unreliable: name the hook itself.
				msg = fmt.Sprintf("did not finish within %d steps (an endless loop?)", HookSteps)
				return false, &HookError{Where: h.where, Hook: h.name, Msg: msg}
			case stopTime:
				msg = fmt.Sprintf("did not finish within %v (a loop that does too much?)", h.timeout)
				return false, &HookError{Where: h.where, Hook: h.name, Msg: msg}
			case stopCalls:
				msg = fmt.Sprintf("functions call each other more than %d deep (an endless recursion?)", MaxCallDepth)
				return false, &HookError{Where: h.where, Hook: h.name, Msg: msg}
			}
			// Point at the failing line inside the hook, when there is one.
			for i := len(ee.CallStack) - 1; i >= 0; i-- {
				pos := ee.CallStack[i].Pos
				if pos.Filename() != "<builtin>" && pos.IsValid() {
					return false, &HookError{Where: fmt.Sprintf("%s:%d", pos.Filename(), h.orig(pos).line), Hook: h.name, Msg: msg}
				}
			}
		}
		return false, &HookError{Where: h.where, Hook: h.name, Msg: msg}
	}
	b, ok := v.(starlark.Bool)
	if !ok {
		return false, &HookError{Where: h.where, Hook: h.name, Msg: fmt.Sprintf("returned %s, want True or False", describe(v))}
	}
	return bool(b), nil
}

func (h *hook) exclude(rel string, isDir bool) (bool, error) {
	return h.call(starlark.Tuple{starlark.String(rel), starlark.Bool(isDir)})
}

func (h *hook) filter(ev Event) (bool, error) {
	s := starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"path":   starlark.String(ev.Path),
		"source": starlark.String(ev.Source),
		"name":   starlark.String(ev.Name),
		"is_dir": starlark.Bool(ev.IsDir),
	})
	s.Freeze()
	return h.call(starlark.Tuple{s})
}
