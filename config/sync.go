package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// syncCall is one sync(...) call, recorded while the config runs and
// validated once it has finished (rnodes and edelay may be set later in
// the file).
type syncCall struct {
	pos        place
	source     string
	target     string
	nodes      *starlark.List // nil: rnodes
	excludes   *starlark.List
	exclude    starlark.Value // nil or callable
	filter     starlark.Value
	delay      starlark.Value // nil: edelay
	resync     starlark.Value // nil: resync_interval
	timeout    starlark.Value // nil: timeout
	allowEmpty starlark.Value // nil: allow_empty_source
	delete     starlark.Value // nil: delete
	init       starlark.Value // nil: init
	exclFrom   starlark.Value // nil: none beyond the global exclude_from
	extra      starlark.Value // nil: extra
	rspeed     starlark.Value // nil: rspeed
	rsync      starlark.Value // nil: rsync
	filters    starlark.Value // nil: none beyond the global filters
	after      starlark.Value // nil: none
	afterTime  starlark.Value // nil: rsync.DefaultAfterTimeout
}

// orig maps a position in any evaluated file back to the user's text.
func (b *builder) orig(pos syntax.Position) place {
	if src := b.l.sources[pos.Filename()]; src != nil {
		return src.orig(pos)
	}
	return place{pos.Line, pos.Col}
}

// syncBuiltin is sync(source, target, nodes, excludes, exclude, filter,
// delay, resync_interval, timeout, allow_empty_source, delete, init,
// exclude_from, filters, extra, rspeed, rsync, after, after_timeout): one
// watched tree with its own settings (contract 3).
func (b *builder) syncBuiltin(th *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var c syncCall
	var exclude, filter, delay, resync, timeout, allowEmpty, del, init, exclFrom, filters, extra, rspeed, rsync, after, afterTime starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs,
		"source", &c.source, "target", &c.target, "nodes?", &c.nodes, "excludes?", &c.excludes,
		"exclude?", &exclude, "filter?", &filter, "delay?", &delay, "resync_interval?", &resync,
		"timeout?", &timeout, "allow_empty_source?", &allowEmpty, "delete?", &del, "init?", &init, "exclude_from?", &exclFrom, "filters?", &filters,
		"extra?", &extra, "rspeed?", &rspeed, "rsync?", &rsync, "after?", &after, "after_timeout?", &afterTime); err != nil {
		return nil, withKeywordHint(err, kwargs, syncParams)
	}
	c.pos = b.orig(th.CallFrame(1).Pos)
	c.exclude, c.filter, c.delay, c.resync = noneToNil(exclude), noneToNil(filter), noneToNil(delay), noneToNil(resync)
	c.timeout, c.allowEmpty, c.delete, c.init = noneToNil(timeout), noneToNil(allowEmpty), noneToNil(del), noneToNil(init)
	c.exclFrom, c.extra, c.rspeed, c.rsync = noneToNil(exclFrom), noneToNil(extra), noneToNil(rspeed), noneToNil(rsync)
	c.filters, c.after, c.afterTime = noneToNil(filters), noneToNil(after), noneToNil(afterTime)
	if err := b.checkCall(c); err != nil {
		return nil, err
	}
	b.calls = append(b.calls, c)
	return starlark.None, nil
}

// checkCall checks one sync() call's arguments as it is made, so that an
// error names the call: the paths, the hooks and each setting given.
func (b *builder) checkCall(c syncCall) error {
	if c.source == "" {
		return fmt.Errorf("source is empty: give the directory to watch")
	}
	for _, a := range []struct{ name, v string }{{"source", c.source}, {"target", c.target}} {
		if hasNUL(a.v) {
			return fmt.Errorf("%s", nulMessage("sync("+a.name+"=…)", a.v))
		}
	}
	for _, hk := range []struct {
		v      starlark.Value
		name   string
		params int
		what   string
	}{{c.exclude, "exclude", 2, "(path, is_dir)"}, {c.filter, "filter", 1, "(event)"}} {
		if hk.v == nil {
			continue
		}
		if _, err := b.newHook(hk.v, hk.name, hk.params, hk.what); err != nil {
			return err
		}
	}
	for _, s := range c.settingChecks() {
		if s.v == nil {
			continue
		}
		if err := s.check(s.v); err != nil {
			return err
		}
	}
	return nil
}

// settingCheck is a sync() setting's value (nil when not given) and its
// check.
type settingCheck struct {
	v     starlark.Value
	check func(starlark.Value) error
}

// settingChecks are the checks of c's settings, each as the global
// setting of the same name is checked.
func (c syncCall) settingChecks() []settingCheck {
	named := func(name string, err error) error {
		if err != nil {
			return fmt.Errorf("%s %v", name, err)
		}
		return nil
	}
	return []settingCheck{
		{c.delay, func(v starlark.Value) error { _, err := delaySeconds(v); return named("delay", err) }},
		{c.resync, func(v starlark.Value) error { _, err := intervalSeconds(v, true); return named("resync_interval", err) }},
		{c.timeout, func(v starlark.Value) error { _, err := intervalSeconds(v, true); return named("timeout", err) }},
		{c.allowEmpty, func(v starlark.Value) error { _, err := boolSetting("allow_empty_source", v); return err }},
		{c.delete, func(v starlark.Value) error { _, err := deleteMode(v); return err }},
		{c.init, func(v starlark.Value) error { _, err := boolSetting("init", v); return err }},
		{c.filters, func(v starlark.Value) error { _, err := filterRules(v, "sync(filters=…)"); return err }},
		{c.extra, checkCallExtra},
		{c.rspeed, func(v starlark.Value) error { _, err := rspeedValue(v, "sync(rspeed=…)"); return err }},
		{c.after, func(v starlark.Value) error { _, err := afterArgv(v, "sync(after=…)"); return err }},
		{c.afterTime, func(v starlark.Value) error { _, err := intervalSeconds(v, false); return named("after_timeout", err) }},
		{c.rsync, checkCallRsync},
	}
}

// checkCallExtra checks sync(extra=…): a string of rsync options.
func checkCallExtra(v starlark.Value) error {
	s, ok := v.(starlark.String)
	if !ok {
		return fmt.Errorf("extra must be a string of rsync options, got %s", describe(v))
	}
	if hasNUL(string(s)) {
		return fmt.Errorf("%s", nulMessage("sync(extra=…)", string(s)))
	}
	return nil
}

// checkCallRsync checks sync(rsync=…): the path of an rsync binary.
func checkCallRsync(v starlark.Value) error {
	s, ok := v.(starlark.String)
	if !ok {
		return fmt.Errorf("rsync must be the path of the rsync binary, got %s", describe(v))
	}
	return checkRsyncBinary(string(s), "sync(rsync=…)")
}

// syncParams are sync()'s parameters, for withKeywordHint.
var syncParams = []string{"source", "target", "nodes", "excludes", "exclude", "filter", "delay", "resync_interval", "timeout",
	"allow_empty_source", "delete", "init", "exclude_from", "filters", "extra", "rspeed", "rsync", "after", "after_timeout"}

// withKeywordHint adds "did you mean …?" to an unknown keyword argument's
// error when starlark's own check offered none (it looks at only some of
// the parameters' names).
func withKeywordHint(err error, kwargs []starlark.Tuple, params []string) error {
	msg := err.Error()
	if !strings.Contains(msg, "unexpected keyword argument") || strings.Contains(msg, "did you mean") {
		return err
	}
	for _, kw := range kwargs {
		name := string(kw[0].(starlark.String))
		if !strings.Contains(msg, strconv.Quote(name)) {
			continue
		}
		if m := nearestName(name, params); m != "" {
			return fmt.Errorf("%s (did you mean %s?)", msg, m)
		}
	}
	return err
}

func noneToNil(v starlark.Value) starlark.Value {
	if v == starlark.None {
		return nil
	}
	return v
}

// fromCalls validates the recorded sync() calls into Syncs.
func (b *builder) fromCalls(g starlark.StringDict, opts Options, defaults *Config) ([]Sync, error) {
	var syncs []Sync
	for _, c := range b.calls {
		s, err := b.fromCall(g, opts, defaults, c)
		if err != nil {
			return nil, err
		}
		syncs = append(syncs, s)
	}
	return syncs, nil
}

// fromCall is the tree of one sync() call: its source, its nodes' targets,
// its filters and excludes, its extra, and the global settings it does not
// set itself.
func (b *builder) fromCall(g starlark.StringDict, opts Options, defaults *Config, c syncCall) (Sync, error) {
	src, err := b.watchPath("sync(source=…)", c.pos, c.source, opts.Cwd)
	if err != nil {
		return Sync{}, err
	}
	// Unlike 0.2.3's abspath for a relative wpath, sync() keeps the
	// trailing slash: it decides whether rsync copies the contents.
	if strings.HasSuffix(c.source, "/") && !strings.HasSuffix(src, "/") {
		src += "/"
	}
	s := Sync{Source: src, Target: c.target, Delay: defaults.Delay, Resync: defaults.ResyncInterval,
		Timeout: defaults.Timeout, AllowEmptySource: defaults.AllowEmptySource, Delete: defaults.Delete, Init: defaults.Init,
		After: defaults.After, AfterTimeout: defaults.AfterTimeout,
		Pos: fmt.Sprintf("%s:%d:%d", b.src.name, c.pos.line, c.pos.col)}
	if s.Dests, err = b.callDests(g, opts, c); err != nil {
		return Sync{}, err
	}
	if s.Excludes, err = b.callExcludes(c); err != nil {
		return Sync{}, err
	}
	if c.extra != nil {
		words, err := SplitExtra(string(c.extra.(starlark.String)), func(k string) string { return opts.Env[k] })
		if err != nil {
			return Sync{}, b.errAt(c.pos, "sync(extra=…): %v", err)
		}
		if words == nil {
			words = []string{} // extra = "": none, not the global one
		}
		s.Extra, s.ExtraPos = words, s.Pos
	}
	if c.exclFrom != nil {
		pats, err := b.excludeFrom(c.exclFrom, c.pos, "sync(exclude_from=…)")
		if err != nil {
			return Sync{}, err
		}
		s.Excludes = append(s.Excludes, pats...)
	}
	if c.rsync != nil {
		s.Rsync = string(c.rsync.(starlark.String))
	}
	c.applySettings(&s)
	if c.afterTime != nil && !hasAfter(s) {
		b.warnAt(c.pos, "sync(after_timeout=…) is set but this tree has no after command: it bounds nothing")
	}
	if c.exclude != nil {
		h, _ := b.newHook(c.exclude, "sync(exclude=…)", 2, "(path, is_dir)") // checked when called
		s.ExcludeHooks = append(s.ExcludeHooks, h.exclude)
	}
	if c.filter != nil {
		h, _ := b.newHook(c.filter, "sync(filter=…)", 1, "(event)") // checked when called
		s.FilterHooks = append(s.FilterHooks, h.filter)
	}
	return s, nil
}

// callDests are the destinations of a sync() call: its target under each
// of its nodes, or of rnodes when it names none.
func (b *builder) callDests(g starlark.StringDict, opts Options, c syncCall) ([]Dest, error) {
	var nodes []nodeSpec
	var err error
	if c.nodes != nil {
		if nodes, err = nodeItems(c.nodes, opts.Env); err != nil {
			return nil, b.errAt(c.pos, "sync(nodes=…): %v", err)
		}
		for _, n := range nodes {
			b.warnNodeTypo(c.pos, n.target)
		}
	} else if g.Has("rnodes") {
		if nodes, err = b.rnodes(g, opts.Env); err != nil {
			return nil, err
		}
	}
	if len(nodes) == 0 {
		return nil, b.errAt(c.pos, "sync(source=%q) has no nodes: give nodes=[…] or set rnodes", c.source)
	}
	dests := make([]Dest, 0, len(nodes))
	for _, n := range nodes {
		dests = append(dests, n.dest(n.target+c.target))
	}
	return dests, nil
}

// callExcludes are a sync() call's own filter rules and exclude patterns,
// in order (exclude_from's patterns follow them; see fromCall).
func (b *builder) callExcludes(c syncCall) ([]string, error) {
	var rules []string
	if c.filters != nil {
		rules, _ = filterRules(c.filters, "sync(filters=…)") // checked when called
	}
	if c.excludes != nil {
		more, err := stringItems(c.excludes)
		if err != nil {
			return nil, b.errAt(c.pos, "sync(excludes=…): %v", err)
		}
		rules = append(rules, more...)
	}
	return rules, nil
}

// applySettings sets on s the settings the call gives, each checked when
// the call was made (checkCall), over the global ones.
func (c syncCall) applySettings(s *Sync) {
	if c.rspeed != nil {
		s.Bwlimit, _ = rspeedValue(c.rspeed, "sync(rspeed=…)")
	}
	if c.delay != nil {
		s.Delay, _ = delaySeconds(c.delay)
	}
	if c.resync != nil {
		s.Resync, _ = intervalSeconds(c.resync, true)
	}
	if c.timeout != nil {
		s.Timeout, _ = intervalSeconds(c.timeout, true)
	}
	if c.allowEmpty != nil {
		s.AllowEmptySource, _ = boolSetting("allow_empty_source", c.allowEmpty)
	}
	if c.delete != nil {
		s.Delete, _ = deleteMode(c.delete)
	}
	if c.init != nil {
		s.Init, _ = boolSetting("init", c.init)
	}
	if c.after != nil {
		s.After, _ = afterArgv(c.after, "sync(after=…)")
	}
	if c.afterTime != nil {
		s.AfterTimeout, _ = intervalSeconds(c.afterTime, false)
	}
}

// globalHooks reads the optional top-level exclude(path, is_dir) and
// event_filter(event) and adds them to every tree.
func (b *builder) globalHooks(g starlark.StringDict, syncs []Sync) error {
	for _, hk := range []struct {
		name   string
		params int
		what   string
	}{{"exclude", 2, "(path, is_dir)"}, {"event_filter", 1, "(event)"}} {
		v, ok := g[hk.name]
		if !ok || v == starlark.None {
			continue
		}
		h, err := b.newHook(v, hk.name, hk.params, hk.what)
		if err != nil {
			return b.errAt(b.src.defPos(hk.name), "%v", err)
		}
		for i := range syncs {
			if hk.name == "exclude" {
				syncs[i].ExcludeHooks = append(syncs[i].ExcludeHooks, h.exclude)
			} else {
				syncs[i].FilterHooks = append(syncs[i].FilterHooks, h.filter)
			}
		}
	}
	return nil
}

// stringItems reads a list of strings.
func stringItems(l *starlark.List) ([]string, error) {
	out := make([]string, 0, l.Len())
	for i := range l.Len() {
		s, ok := l.Index(i).(starlark.String)
		if !ok {
			return nil, fmt.Errorf("item %d must be a string, got %s", i, describe(l.Index(i)))
		}
		if hasNUL(string(s)) {
			return nil, fmt.Errorf("%s", nulMessage(fmt.Sprintf("item %d", i), string(s)))
		}
		out = append(out, string(s))
	}
	return out, nil
}
