package lsyncd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Limits bound the evaluation of an lsyncd config: a config normally runs
// in a millisecond, and a mistaken or hostile one must not take the
// machine down.
type Limits struct {
	Timeout   time.Duration // wall-clock time
	MaxMemory uint64        // growth of the Go heap, in bytes
}

// DefaultLimits are the limits Convert uses.
var DefaultLimits = Limits{Timeout: 5 * time.Second, MaxMemory: 256 << 20}

// maxRep bounds the string that string.rep may make: one call could
// otherwise ask for gigabytes in a single allocation, which no check
// between instructions can stop.
const maxRep = 1 << 20

// call is one settings{…} or sync{…} call: its Lua line and its table.
// For a sync, table is the config with what it inherits merged in (see
// inherit), layer the default layer it inherits ("" for none), and user
// the keys that the config's own tables set.
type call struct {
	seq   int // its place among the calls; a settings = {…} table has 0
	line  int
	table *lua.LTable
	layer string
	user  map[string]bool
}

// evaluation is what running an lsyncd config recorded.
type evaluation struct {
	settings []call // settings{…} calls, and a settings = {…} assignment
	syncs    []call
	// layers maps lsyncd's default layers (default.rsync, …) to their
	// names, to tell which one a sync inherits.
	layers map[*lua.LTable]string
	calls  int // settings{…} and sync{…} calls so far
	// oldSettings: the config assigns settings = {…} (lsyncd 2.0), which
	// lsyncd 2.2 refuses.
	oldSettings bool
}

// evaluate runs the lsyncd config src (named name in messages) in a
// sandbox: Lua's base, string, table and math libraries without file,
// module or code loading, no os or io, and lsyncd's API stubbed so that
// settings{…} and sync{…} record their tables. Functions that the tables
// hold (custom actions) are never called.
func evaluate(name string, src []byte, lim Limits) (*evaluation, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 200, RegistrySize: 1 << 12, RegistryMaxSize: 1 << 20})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, n := range []string{"dofile", "loadfile", "load", "loadstring", "require", "module"} {
		L.SetGlobal(n, unavailableFunc(L, n))
	}
	for _, n := range []string{"collectgarbage", "newproxy", "_printregs"} {
		L.SetGlobal(n, lua.LNil)
	}
	noop := L.NewFunction(func(*lua.LState) int { return 0 })
	L.SetGlobal("print", noop)
	if s, ok := L.GetGlobal("string").(*lua.LTable); ok {
		s.RawSetString("rep", L.NewFunction(boundedRep))
	}
	if t, ok := L.GetGlobal("table").(*lua.LTable); ok {
		t.RawSetString("unpack", L.GetGlobal("unpack")) // Lua 5.2+, as lsyncd 2.2 runs it
	}
	for _, lib := range []string{"os", "io"} {
		L.SetGlobal(lib, unavailable(L, lib))
	}

	ev := &evaluation{layers: map[*lua.LTable]string{}}
	ev.stubAPI(L, noop)

	ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout)
	defer cancel()
	overMemory := watchMemory(ctx, cancel, lim.MaxMemory)
	L.SetContext(ctx)
	fn, err := L.Load(strings.NewReader(string(src)), name)
	if err != nil {
		return nil, syntaxError(name, src, err)
	}
	L.Push(fn)
	err = L.PCall(0, 0, nil)
	switch {
	case overMemory():
		return nil, fmt.Errorf("%s: evaluating it took more than %d MiB of memory; is there a loop that never ends?", name, lim.MaxMemory>>20)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("%s: evaluating it took longer than %v; is there a loop that never ends?", name, lim.Timeout)
	case err != nil:
		return nil, fmt.Errorf("%s: running it failed: %w", name, err)
	}
	if t, ok := L.GetGlobal("settings").(*lua.LTable); ok { // lsyncd 2.0's settings = {…}: for every sync
		ev.settings = append([]call{{table: t}}, ev.settings...)
		ev.oldSettings = true
	}
	return ev, nil
}

// stubAPI defines lsyncd's globals: default and its layers, settings and
// sync, which record their tables, and the functions that actions call
// (log, spawn, spawnShell), which do nothing.
func (ev *evaluation) stubAPI(L *lua.LState, noop *lua.LFunction) {
	def := L.NewTable()
	for name, layer := range defaultLayers(L) {
		def.RawSetString(name, layer)
		ev.layers[layer] = name
	}
	L.SetGlobal("default", def)
	record := func(to *[]call, what string, merge bool) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			t, ok := L.Get(1).(*lua.LTable)
			if !ok {
				L.RaiseError("%s{…} takes a table, got %s", what, L.Get(1).Type())
			}
			ev.calls++
			c := call{seq: ev.calls, line: callerLine(L), table: t}
			if merge {
				m := &merger{L: L, layers: ev.layers, user: map[string]bool{}}
				c.table = L.NewTable()
				m.inherit(c.table, t, false, true, map[*lua.LTable]bool{})
				c.layer, c.user = m.layer, m.user
			}
			*to = append(*to, c)
			return 0
		})
	}
	L.SetGlobal("settings", record(&ev.settings, "settings", false))
	L.SetGlobal("sync", record(&ev.syncs, "sync", true))
	for _, n := range []string{"log", "spawn", "spawnShell", "alarm", "observefd", "nonobservefd"} {
		L.SetGlobal(n, noop)
	}
	lsyncd := L.NewTable()
	for _, n := range []string{"log", "terminate", "kill", "nonobserve_fd", "observe_fd", "exec", "add_to_tail"} {
		lsyncd.RawSetString(n, noop)
	}
	L.SetGlobal("lsyncd", lsyncd)
}

// defaultLayers are lsyncd's default.rsync, default.rsyncssh and
// default.direct with the settings that this conversion reads (see
// default-rsync.lua, default-rsyncssh.lua and default-direct.lua).
func defaultLayers(L *lua.LState) map[string]*lua.LTable {
	rsyncOpts := func() *lua.LTable {
		t := L.NewTable()
		for k, v := range defaultRsync {
			t.RawSetString(k, v)
		}
		return t
	}
	layer := func(delay int) *lua.LTable {
		t := L.NewTable()
		t.RawSetString("rsync", rsyncOpts())
		t.RawSetString("delete", lua.LTrue)
		t.RawSetString("delay", lua.LNumber(delay))
		t.RawSetString("maxProcesses", lua.LNumber(1))
		return t
	}
	ssh := layer(15)
	sshOpts := L.NewTable()
	sshOpts.RawSetString("binary", lua.LString("/usr/bin/ssh"))
	ssh.RawSetString("ssh", sshOpts)
	return map[string]*lua.LTable{"rsync": layer(15), "rsyncssh": ssh, "direct": layer(1)}
}

// defaultRsync is default.rsync's rsync = {…}: the options every default
// layer starts from.
var defaultRsync = map[string]lua.LValue{
	"binary": lua.LString("/usr/bin/rsync"), "links": lua.LTrue, "times": lua.LTrue, "protect_args": lua.LTrue,
}

// unavailable is a stand-in for a library the sandbox leaves out: using
// any of its names is an error that says so.
func unavailable(L *lua.LState, lib string) *lua.LTable {
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s.%s is not available while converting: the config runs without files, environment or processes; write the value it gave into the config", lib, L.CheckString(2))
		return 0
	}))
	L.SetMetatable(t, mt)
	return t
}

// unavailableFunc is a stand-in for a function that loads code from
// elsewhere (dofile, require, load…): calling it is an error that says
// the config is converted on its own.
func unavailableFunc(L *lua.LState, name string) *lua.LFunction {
	return L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s is not available while converting: the config is read on its own, without the files or code it would load; put what that gave into the config itself", name)
		return 0
	})
}

// callerLine is the line of the Lua code that called the running Go
// function; 0 when unknown.
func callerLine(L *lua.LState) int {
	w := strings.TrimSuffix(L.Where(1), ":")
	if i := strings.LastIndexByte(w, ':'); i >= 0 {
		n, _ := strconv.Atoi(w[i+1:])
		return n
	}
	return 0
}

// boundedRep is string.rep, refusing a result longer than maxRep.
func boundedRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n > 0 && len(s) > 0 && n > maxRep/len(s) {
		L.RaiseError("string.rep: a string of %d × %d bytes is more than a config needs", n, len(s))
	}
	L.Push(lua.LString(strings.Repeat(s, max(n, 0))))
	return 1
}

// watchMemory cancels the evaluation when the Go heap has grown by more
// than limit since the start; the returned function says whether it did.
func watchMemory(ctx context.Context, cancel context.CancelFunc, limit uint64) func() bool {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	base := heap()
	over := make(chan bool, 1)
	go func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				over <- false
				return
			case <-t.C:
				if heap() > base+limit {
					over <- true
					cancel()
					return
				}
			}
		}
	}()
	return func() bool {
		cancel()
		return <-over
	}
}

// merger is lsyncd's inherit (Syncs.add in lsyncd.lua): a sync's config
// is built from its own keys first, then from the tables at its integer
// keys in order (its layers), each key taken from the first table that
// has it; tables at the same key merge the same way, and their list
// entries are appended (so excludes of a layer add to the sync's own).
type merger struct {
	L      *lua.LState
	layers map[*lua.LTable]string
	layer  string          // the first default layer met
	user   map[string]bool // top-level keys set by a table that is not a default layer
}

// inherit copies cs into cd; top says cd is the sync's config (its keys
// are tracked), verbatim that integer keys are plain keys (exitcodes).
// A table already being inherited is skipped: lsyncd would loop on a
// cycle, and a table reached twice adds nothing the second time.
func (m *merger) inherit(cd, cs *lua.LTable, verbatim, top bool, visiting map[*lua.LTable]bool) {
	if visiting[cs] {
		return
	}
	visiting[cs] = true
	defer delete(visiting, cs)
	name, isLayer := m.layers[cs]
	if isLayer && m.layer == "" {
		m.layer = name
	}
	verbatim = verbatim || cs.RawGetString("_verbatim") == lua.LTrue
	only, _ := cs.RawGetString("_merge").(*lua.LTable)
	cs.ForEach(func(k, v lua.LValue) {
		if _, num := k.(lua.LNumber); num && !verbatim {
			return
		}
		if only != nil && only.RawGet(k) != lua.LTrue {
			return
		}
		m.inheritKV(cd, k, v, top && !isLayer, visiting)
	})
	if verbatim {
		return
	}
	for i := 1; ; i++ {
		v := cs.RawGetInt(i)
		if v == lua.LNil {
			return
		}
		if t, ok := v.(*lua.LTable); ok {
			m.inherit(cd, t, false, top, visiting)
		} else {
			cd.Append(v)
		}
	}
}

// inheritKV copies one key: a value only where cd has none, a table
// merged into cd's table at that key.
func (m *merger) inheritKV(cd *lua.LTable, k, v lua.LValue, track bool, visiting map[*lua.LTable]bool) {
	if k == lua.LString("_merge") || k == lua.LString("_verbatim") {
		return
	}
	if ks, ok := k.(lua.LString); ok && track {
		m.user[string(ks)] = true
	}
	dv := cd.RawGet(k)
	vt, isTable := v.(*lua.LTable)
	switch {
	case isTable && dv == lua.LNil:
		nt := m.L.NewTable()
		cd.RawSet(k, nt)
		m.inherit(nt, vt, k == lua.LString("exitcodes"), false, visiting)
	case isTable:
		if dt, ok := dv.(*lua.LTable); ok && vt.RawGetString("_merge") != lua.LFalse {
			m.inherit(dt, vt, k == lua.LString("exitcodes"), false, visiting)
		}
	case dv == lua.LNil:
		cd.RawSet(k, v)
	}
}

// luaSyntax matches gopher-lua's words for a syntax error: "NAME
// line:L(column:C) near 'TOKEN':   syntax error".
var luaSyntax = regexp.MustCompile(`line:(\d+)\(column:(\d+)\) near '(.*)':\s*(.*)$`)

// syntaxError says where the Lua src does not parse, as NAME:LINE:COL, or
// NAME:LINE at the end of the file, where an unclosed table, call or
// block is found.
func syntaxError(name string, src []byte, err error) error {
	msg := strings.TrimSpace(err.Error())
	m := luaSyntax.FindStringSubmatch(msg)
	if m == nil && strings.Contains(msg, " at EOF:") {
		last := bytes.Count(bytes.TrimRight(src, "\n"), []byte("\n")) + 1
		return fmt.Errorf("%s:%d: the file ends inside a table, a call or a block: a } , ) or end is missing above; this is not valid Lua", name, last)
	}
	if m == nil {
		return fmt.Errorf("%s is not valid Lua: %w", name, err)
	}
	hint := ""
	if namelike.MatchString(m[3]) {
		hint = " (a missing comma between two fields of a table?)"
	}
	return fmt.Errorf("%s:%s:%s: %s near %q: this is not valid Lua%s", name, m[1], m[2], m[4], m[3], hint)
}

// namelike matches a name or a string: the token after which a missing
// comma is the usual mistake.
var namelike = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*|".*"|'.*')$`)
