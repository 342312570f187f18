package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/inosync/inosync/rsync/filter"
)

// Defaults of inosync 0.2.3.
const (
	DefaultRsync = "/usr/bin/rsync"
	DefaultDelay = 10 * time.Second
)

// DefaultEvents is 0.2.3's default emask.
var DefaultEvents = []string{"IN_CLOSE_WRITE", "IN_CREATE", "IN_DELETE", "IN_MOVED_FROM", "IN_MOVED_TO"}

// knownEvents are the names 0.2.3 accepted (pyinotify's ALL_FLAGS), with
// what each does here.
var knownEvents = map[string]eventUse{
	"IN_ACCESS": useless, "IN_MODIFY": triggers, "IN_ATTRIB": triggers, "IN_CLOSE_WRITE": triggers,
	"IN_CLOSE_NOWRITE": useless, "IN_OPEN": useless, "IN_MOVED_FROM": triggers, "IN_MOVED_TO": triggers,
	"IN_CREATE": triggers, "IN_DELETE": triggers, "IN_DELETE_SELF": triggers, "IN_MOVE_SELF": triggers,
	"IN_UNMOUNT": inert, "IN_Q_OVERFLOW": inert, "IN_IGNORED": inert, "IN_ONLYDIR": inert,
	"IN_DONT_FOLLOW": inert, "IN_EXCL_UNLINK": inert, "IN_MASK_ADD": inert, "IN_ISDIR": inert,
	"IN_ONESHOT": inert, "ALL_EVENTS": all,
}

type eventUse int

const (
	triggers eventUse = iota // maps to an fsnotify op
	useless                  // reads: would make 0.2.3 loop on its own reads
	inert                    // a flag, not an event: triggers nothing
	all                      // every event
)

// settingNames are the variables inosync reads, for near-miss warnings.
var settingNames = []string{"wpaths", "rpaths", "wpath", "rpath", "rnodes", "rexcludes", "excludes", "extra", "rspeed", "emask", "edelay", "logfile", "rsync", "exclude", "event_filter", "max_processes", "max_delay", "max_pending", "warm_rsync", "control_socket", "status_file", "status_interval", "metrics_listen", "resync_interval", "timeout", "allow_empty_source", "delete", "init", "exclude_from", "filters", "after", "after_timeout", "watcher"}

// builder validates the globals of one evaluated config.
type builder struct {
	l        *loader
	src      *source
	calls    []syncCall
	warnings []*Error
}

// builtins are the predeclared names config adds: sync() and node().
func (b *builder) builtins() starlark.StringDict {
	return starlark.StringDict{"sync": starlark.NewBuiltin("sync", b.syncBuiltin), "node": starlark.NewBuiltin("node", b.nodeBuiltin)}
}

func (b *builder) errAt(p place, format string, args ...any) *Error {
	return &Error{File: b.src.name, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

func (b *builder) warnAt(p place, format string, args ...any) {
	b.warnings = append(b.warnings, b.errAt(p, format, args...))
}

// validate turns the globals into a Config, checking every setting as
// contract 2 says.
func (b *builder) validate(g starlark.StringDict, opts Options) (*Config, error) {
	c := &Config{File: b.src.name}
	if err := b.globalSettings(g, c); err != nil {
		return nil, err
	}
	if err := b.trees(g, opts, c); err != nil {
		return nil, err
	}
	if err := b.globalFilters(g, c); err != nil {
		return nil, err
	}
	if err := b.checkDeleteOptions(c); err != nil {
		return nil, err
	}
	if err := b.checkPatterns(c.Syncs); err != nil {
		return nil, err
	}
	if err := b.anyNUL(c); err != nil {
		return nil, err
	}
	if err := b.targetsApart(c.Syncs, opts.Cwd); err != nil {
		return nil, err
	}
	b.warnExtraRules(c)
	b.unusedAfterTimeouts(g, c)
	b.nearMisses(g, c.Form)
	b.nested(c.Syncs)
	c.Warnings = b.warnings
	return c, nil
}

// globalSettings reads the settings that are not a tree's own: rsync and
// its speed, the log file, the event mask and delays, the flood bounds,
// the status and metrics surfaces, deletion, the after command, the
// safety settings, the watcher and warm_rsync.
func (b *builder) globalSettings(g starlark.StringDict, c *Config) error {
	var err error
	if c.Rsync, err = b.rsyncPath(g); err != nil {
		return err
	}
	if c.Bwlimit, err = b.rspeed(g); err != nil {
		return err
	}
	if c.Logfile, err = b.optString(g, "logfile"); err != nil {
		return err
	}
	if c.Events, err = b.emask(g); err != nil {
		return err
	}
	if c.Delay, err = b.edelay(g); err != nil {
		return err
	}
	for _, read := range []func(starlark.StringDict, *Config) error{b.flood, b.observe, b.deletion, b.afterSettings, b.safety} {
		if err := read(g, c); err != nil {
			return err
		}
	}
	if c.Watcher, err = b.watcher(g); err != nil {
		return err
	}
	c.WarmRsync = c.Rsync == DefaultRsync
	if v, ok := g["warm_rsync"]; ok && v != starlark.None {
		w, isBool := v.(starlark.Bool)
		if !isBool {
			return b.errAt(b.src.settingPos("warm_rsync"), "warm_rsync must be True or False, got %s", describe(v))
		}
		c.WarmRsync = bool(w)
	}
	if c.Delay > c.MaxDelay {
		b.warnAt(b.src.settingPos("edelay"), "edelay is %v, but no change waits longer than max_delay (%v) for its sync", c.Delay, c.MaxDelay)
	}
	return nil
}

// trees reads the trees in whichever form the config uses (wpaths, the
// older wpath, or sync() calls, which may also follow either), with extra
// where the form reads it; the legacy forms' trees take the global
// settings.
func (b *builder) trees(g starlark.StringDict, opts Options, c *Config) error {
	var err error
	switch {
	case g.Has("wpaths"):
		c.Form = "wpaths"
		if c.Extra, err = b.extra(g, opts.Env); err != nil {
			return err
		}
		if c.Syncs, err = b.plural(g, opts, c.Delay); err != nil {
			return err
		}
	case g.Has("wpath"):
		c.Form = "wpath"
		if g.Has("extra") {
			b.warnAt(b.src.settingPos("extra"), "extra is ignored with the singular wpath form, as inosync 0.2.1 and the tagged 0.2.3 never read it (use wpaths/rpaths to pass rsync options)")
		}
		if c.Syncs, err = b.singular(g, opts, c.Delay); err != nil {
			return err
		}
	case len(b.calls) > 0:
		c.Form = "sync"
		if c.Extra, err = b.extra(g, opts.Env); err != nil {
			return err
		}
	default:
		return &Error{File: b.src.name, Msg: "no paths given to watch: set wpaths (and rpaths), the older wpath, or call sync()"}
	}
	if p := b.src.settingPos("extra"); p.line > 0 && len(c.Extra) > 0 {
		c.ExtraPos = fmt.Sprintf("%s:%d:%d", b.src.name, p.line, p.col)
	}
	for i := range c.Syncs { // the legacy variables' trees
		c.Syncs[i].Resync = c.ResyncInterval
		c.Syncs[i].Timeout, c.Syncs[i].AllowEmptySource = c.Timeout, c.AllowEmptySource
		c.Syncs[i].After, c.Syncs[i].AfterTimeout = c.After, c.AfterTimeout
		c.Syncs[i].Delete, c.Syncs[i].Init = c.Delete, c.Init
	}
	more, err := b.fromCalls(g, opts, c)
	if err != nil {
		return err
	}
	c.Syncs = append(c.Syncs, more...)
	return nil
}

// globalFilters adds the global filters and exclude_from patterns to
// every tree, after its own, and reads the global hooks.
func (b *builder) globalFilters(g starlark.StringDict, c *Config) error {
	if v, ok := g["filters"]; ok && v != starlark.None {
		rules, err := filterRules(v, "filters")
		if err != nil {
			return b.errAt(b.src.settingPos("filters"), "%v", err)
		}
		for i := range c.Syncs {
			c.Syncs[i].Excludes = append(slices.Clip(c.Syncs[i].Excludes), rules...)
			c.Syncs[i].globalExcludes += len(rules)
		}
	}
	if v, ok := g["exclude_from"]; ok && v != starlark.None {
		pats, err := b.excludeFrom(v, b.src.settingPos("exclude_from"), "exclude_from")
		if err != nil {
			return err
		}
		for i := range c.Syncs {
			c.Syncs[i].Excludes = append(slices.Clip(c.Syncs[i].Excludes), pats...)
			c.Syncs[i].globalExcludes += len(pats)
		}
	}
	return b.globalHooks(g, c.Syncs)
}

// plural reads master 0.2.3's wpaths/rpaths/rnodes.
func (b *builder) plural(g starlark.StringDict, opts Options, delay time.Duration) ([]Sync, error) {
	cwd := opts.Cwd
	wpaths, err := b.strList(g, "wpaths")
	if err != nil {
		return nil, err
	}
	if len(wpaths) == 0 {
		return nil, b.errAt(b.src.settingPos("wpaths"), "wpaths is empty: no paths given to watch")
	}
	if !g.Has("rpaths") {
		return nil, &Error{File: b.src.name, Msg: "rpaths is missing: give one remote path per entry of wpaths (no paths given for the transfer)"}
	}
	rpaths, err := b.strList(g, "rpaths")
	if err != nil {
		return nil, err
	}
	if len(rpaths) != len(wpaths) {
		return nil, b.errAt(b.src.settingPos("rpaths"), "rpaths has %s but wpaths has %d", entries(len(rpaths)), len(wpaths))
	}
	nodes, err := b.nodes(g, opts.Env)
	if err != nil {
		return nil, err
	}
	excludes, err := b.excludes(g, "rexcludes", len(wpaths))
	if err != nil {
		return nil, err
	}
	var syncs []Sync
	firstIndex := map[string]int{}
	for i, w := range wpaths {
		src, err := b.watchPath(fmt.Sprintf("wpaths[%d]", i), b.src.elemPos("wpaths", i), w, cwd)
		if err != nil {
			return nil, err
		}
		rp := rpaths[i]
		if j, dup := firstIndex[src]; dup {
			// 0.2.3 looked the rpath up with wpaths.index(): the first one wins.
			b.warnAt(b.src.elemPos("wpaths", i), "wpaths[%d] %q repeats wpaths[%d]: it is synced twice, both times to rpaths[%d] %q, as 0.2.3 did", i, w, j, j, rpaths[j])
			rp = rpaths[j]
		} else {
			firstIndex[src] = i
		}
		s := Sync{Source: src, Target: rp, Excludes: excludes[i], Delay: delay}
		for _, n := range nodes {
			s.Dests = append(s.Dests, n.dest(n.target+rp))
		}
		syncs = append(syncs, s)
	}
	return syncs, nil
}

// singular reads the wpath form of 0.2.1, the tagged 0.2.3 and the forks:
// nodes are whole destinations, except that a node with no path part
// (empty, or ending in ':') gets rpath appended.
func (b *builder) singular(g starlark.StringDict, opts Options, delay time.Duration) ([]Sync, error) {
	cwd := opts.Cwd
	w, ok := g["wpath"].(starlark.String)
	if !ok {
		return nil, b.errAt(b.src.settingPos("wpath"), "wpath must be a string naming one directory, got %s", describe(g["wpath"]))
	}
	if hasNUL(string(w)) {
		return nil, b.errAt(b.src.settingPos("wpath"), "%s", nulMessage("wpath", string(w)))
	}
	src, err := b.watchPath("wpath", b.src.settingPos("wpath"), string(w), cwd)
	if err != nil {
		return nil, err
	}
	rpath, err := b.optString(g, "rpath")
	if err != nil {
		return nil, err
	}
	nodes, err := b.nodes(g, opts.Env)
	if err != nil {
		return nil, err
	}
	name := "rexcludes"
	if !g.Has(name) && g.Has("excludes") {
		name = "excludes" // 0.2.1's name
	}
	excludes, err := b.excludes(g, name, 1)
	if err != nil {
		return nil, err
	}
	s := Sync{Source: src, Target: rpath, Excludes: excludes[0], Delay: delay}
	for i, n := range nodes {
		dest := n.target
		if dest == "" || strings.HasSuffix(dest, ":") {
			dest += rpath
		}
		if dest == "" {
			return nil, b.errAt(b.src.elemPos("rnodes", i), "rnodes[%d] is empty and rpath is not set: there is no destination", i)
		}
		s.Dests = append(s.Dests, n.dest(dest))
	}
	return []Sync{s}, nil
}

// watchPath checks one watched path: it must be a directory. A relative
// path becomes absolute against the start-up directory, normalised as
// Python's os.path.abspath did; an absolute one is kept as written.
func (b *builder) watchPath(what string, p place, w, cwd string) (string, error) {
	if w == "" {
		return "", b.errAt(p, "%s is empty: give the directory to watch", what)
	}
	path := w
	if !filepath.IsAbs(w) {
		path = filepath.Join(cwd, w)
	}
	fi, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		return "", b.errAt(p, "%s %q: no such directory", what, w)
	case err != nil:
		return "", b.errAt(p, "%s %q: %v", what, w, unwrapPathError(err))
	case !fi.IsDir():
		return "", b.errAt(p, "%s %q: not a directory", what, w)
	}
	if li, err := os.Lstat(path); err == nil && li.Mode()&os.ModeSymlink != 0 && !strings.HasSuffix(w, "/") {
		b.warnAt(p, "%s %q is a symbolic link written without a trailing slash: rsync copies the link itself, not the directory it points to (add a trailing slash to sync the contents)", what, w)
	}
	return path, nil
}

// nodes reads rnodes: a non-empty list of nodes, each a string or a
// node(…) with options of its own. env expands variables in a node's
// extra.
func (b *builder) nodes(g starlark.StringDict, env map[string]string) ([]nodeSpec, error) {
	if !g.Has("rnodes") {
		return nil, &Error{File: b.src.name, Msg: "rnodes is missing: nothing to sync to (no remote nodes given)"}
	}
	nodes, err := b.rnodes(g, env)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, b.errAt(b.src.settingPos("rnodes"), "rnodes is empty: nothing to sync to (no remote nodes given)")
	}
	return nodes, nil
}

// excludes reads the exclude patterns: one list for every path, or a list
// of lists with one list per watched path (a fork's form).
func (b *builder) excludes(g starlark.StringDict, name string, paths int) ([][]string, error) {
	out := make([][]string, paths)
	v, ok := g[name]
	if !ok || v == starlark.None {
		return out, nil
	}
	items, ok := sequence(v)
	if !ok {
		return nil, b.errAt(b.src.settingPos(name), "%s must be a list of rsync patterns, got %s", name, describe(v))
	}
	nested := len(items) > 0
	for _, it := range items {
		if _, isStr := it.(starlark.String); isStr {
			nested = false
		}
	}
	if !nested {
		pats, err := b.strList(g, name)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = pats
		}
		return out, nil
	}
	if len(items) != paths {
		return nil, b.errAt(b.src.settingPos(name), "%s holds one list per watched path, but has %s for %d watched paths", name, entries(len(items)), paths)
	}
	for i, it := range items {
		sub, ok := sequence(it)
		if !ok {
			return nil, b.errAt(b.src.elemPos(name, i), "%s[%d] must be a list of rsync patterns, got %s", name, i, describe(it))
		}
		for j, x := range sub {
			s, ok := x.(starlark.String)
			if !ok {
				return nil, b.errAt(b.src.elemPos(name, i), "%s[%d][%d] must be a string, got %s", name, i, j, describe(x))
			}
			if hasNUL(string(s)) {
				return nil, b.errAt(b.src.elemPos(name, i), "%s", nulMessage(fmt.Sprintf("%s[%d][%d]", name, i, j), string(s)))
			}
			out[i] = append(out[i], string(s))
		}
	}
	return out, nil
}

// extra splits `extra` into rsync options.
func (b *builder) extra(g starlark.StringDict, env map[string]string) ([]string, error) {
	v, ok := g["extra"]
	if !ok || v == starlark.None {
		return nil, nil
	}
	s, ok := v.(starlark.String)
	if !ok {
		return nil, b.errAt(b.src.settingPos("extra"), "extra must be a string of rsync options, got %s", describe(v))
	}
	if hasNUL(string(s)) { // the shell parser would drop it silently
		return nil, b.errAt(b.src.settingPos("extra"), "%s", nulMessage("extra", string(s)))
	}
	words, err := SplitExtra(string(s), func(k string) string { return env[k] })
	if err != nil {
		return nil, b.errAt(b.src.settingPos("extra"), "extra: %v", err)
	}
	return words, nil
}

// rspeed gives the --bwlimit value: 0 when unset (see rspeedValue).
func (b *builder) rspeed(g starlark.StringDict) (string, error) {
	v, ok := g["rspeed"]
	if !ok || v == starlark.None {
		return "0", nil
	}
	bw, err := rspeedValue(v, "rspeed")
	if err != nil {
		return "", b.errAt(b.src.settingPos("rspeed"), "%v", err)
	}
	return bw, nil
}

// bwlimitForm is what rsync's --bwlimit reads (parse_size_arg): a number
// (which may be empty: "" and "." read as 0), a unit (b, k, m, g, t, p;
// with b, ib), and +1 or -1.
var bwlimitForm = regexp.MustCompile(`^([0-9]*\.?[0-9]*)([bBkKmMgGtTpP]([iI]?[bB])?)?([+-]1)?$`)

// rspeedValue gives the --bwlimit value of an rspeed value: 0 when
// negative; a whole float (Python 2's 1024/8) prints as an integer. what
// names the setting in errors.
func rspeedValue(v starlark.Value, what string) (string, error) {
	switch x := v.(type) {
	case starlark.Int:
		if x.Sign() < 0 {
			return "0", nil
		}
		return x.String(), nil
	case starlark.Float:
		f := float64(x)
		switch {
		case f < 0 || math.IsNaN(f):
			return "0", nil
		case f == math.Trunc(f) && f < 1e15:
			return strconv.FormatInt(int64(f), 10), nil
		}
		return strconv.FormatFloat(f, 'g', 12, 64), nil
	case starlark.String:
		if hasNUL(string(x)) {
			return "", errors.New(nulMessage(what, string(x)))
		}
		if !bwlimitForm.MatchString(string(x)) {
			return "", fmt.Errorf("%s = %s is not a bandwidth rsync reads: give a number of KB/s, or one with a unit (1.5m, 500K)", what, x.String())
		}
		return string(x), nil
	}
	return "", fmt.Errorf("%s must be a number (KB/s), got %s", what, describe(v))
}

// emask reads the event names: a list, or a dict whose keys are names.
func (b *builder) emask(g starlark.StringDict) ([]string, error) {
	v, ok := g["emask"]
	if !ok || v == starlark.None {
		return DefaultEvents, nil
	}
	var items []starlark.Value
	if d, isDict := v.(*starlark.Dict); isDict {
		items = d.Keys()
	} else if items, ok = sequence(v); !ok {
		return nil, b.errAt(b.src.settingPos("emask"), "emask must be a list of inotify event names, got %s", describe(v))
	}
	if len(items) == 0 {
		return nil, b.errAt(b.src.settingPos("emask"), "emask is empty: no event would ever start a sync")
	}
	names := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(starlark.String)
		if !ok {
			return nil, b.errAt(b.src.elemPos("emask", i), "emask[%d] must be an event name such as \"IN_CREATE\", got %s", i, describe(it))
		}
		name := string(s)
		use, known := knownEvents[name]
		if !known {
			e := b.errAt(b.src.elemPos("emask", i), "emask: unknown event %q", name)
			if m := nearest(name, eventNames(), 3); m != "" {
				e.Msg += fmt.Sprintf(" (did you mean %s?)", m)
			}
			return nil, e
		}
		switch use {
		case all:
			b.warnAt(b.src.elemPos("emask", i), "emask: %s includes IN_OPEN, IN_ACCESS and IN_CLOSE_NOWRITE, which never start a sync; the other events do", name)
		case useless:
			b.warnAt(b.src.elemPos("emask", i), "emask: %s is accepted but never starts a sync (it fires on reads, which made 0.2.3 loop on its own rsync runs)", name)
		case inert:
			b.warnAt(b.src.elemPos("emask", i), "emask: %s is a flag, not an event: it never starts a sync", name)
		}
		names = append(names, name)
	}
	return names, nil
}

func eventNames() []string {
	names := make([]string, 0, len(knownEvents))
	for n := range knownEvents {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Defaults of the flood-protection settings.
const (
	DefaultMaxDelay   = time.Minute
	DefaultMaxPending = 10000
)

// flood reads max_processes, max_delay and max_pending.
func (b *builder) flood(g starlark.StringDict, c *Config) error {
	c.MaxDelay, c.MaxPending = DefaultMaxDelay, DefaultMaxPending
	if v, ok := g["max_delay"]; ok && v != starlark.None {
		d, err := delaySeconds(v)
		if err != nil {
			return b.errAt(b.src.settingPos("max_delay"), "max_delay %v", err)
		}
		c.MaxDelay = d
	}
	for _, it := range []struct {
		name string
		dst  *int
		min  int
	}{{"max_processes", &c.MaxProcesses, 1}, {"max_pending", &c.MaxPending, 100}} {
		v, ok := g[it.name]
		if !ok || v == starlark.None {
			continue
		}
		n, err := starlark.AsInt32(v)
		if err != nil || n < it.min {
			return b.errAt(b.src.settingPos(it.name), "%s must be a whole number of at least %d, got %s", it.name, it.min, describe(v))
		}
		*it.dst = n
	}
	return nil
}

// edelay reads the delay in seconds: 0 or more.
func (b *builder) edelay(g starlark.StringDict) (time.Duration, error) {
	v, ok := g["edelay"]
	if !ok || v == starlark.None {
		return DefaultDelay, nil
	}
	d, err := delaySeconds(v)
	if err != nil {
		return 0, b.errAt(b.src.settingPos("edelay"), "edelay %v", err)
	}
	return d, nil
}

// number reads a number of seconds, an int or a float.
func number(v starlark.Value) (float64, error) {
	switch x := v.(type) {
	case starlark.Int:
		i, _ := x.Int64()
		return float64(i), nil
	case starlark.Float:
		return float64(x), nil
	}
	return 0, fmt.Errorf("must be a number of seconds, got %s", describe(v))
}

// delaySeconds reads a delay in seconds: a number from 0 to a day.
func delaySeconds(v starlark.Value) (time.Duration, error) {
	secs, err := number(v)
	if err != nil {
		return 0, err
	}
	if secs < 0 || math.IsNaN(secs) {
		return 0, fmt.Errorf("is %s, must be 0 or more (event delay in seconds)", v.String())
	}
	if secs > 1e9 {
		return 0, fmt.Errorf("is %s seconds: too long to be meant", v.String())
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// rsyncPath reads `rsync`: absolute, and an existing file.
func (b *builder) rsyncPath(g starlark.StringDict) (string, error) {
	path := DefaultRsync
	p := b.src.settingPos("rsync")
	if v, ok := g["rsync"]; ok && v != starlark.None {
		s, ok := v.(starlark.String)
		if !ok {
			return "", b.errAt(p, "rsync must be the path of the rsync binary, got %s", describe(v))
		}
		path = string(s)
	}
	if err := checkRsyncBinary(path, "rsync"); err != nil {
		if p == (place{}) {
			return "", &Error{File: b.src.name, Msg: fmt.Sprintf("rsync binary does not exist: %s (install rsync, or set rsync to its path)", path)}
		}
		return "", b.errAt(p, "%v", err)
	}
	return path, nil
}

// checkRsyncBinary checks the path of an rsync binary: absolute, and an
// existing file. what names the setting in errors.
func checkRsyncBinary(path, what string) error {
	if hasNUL(path) {
		return errors.New(nulMessage(what, path))
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s %q: the rsync path needs to be absolute", what, path)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("rsync binary does not exist: %s", path)
	case fi.IsDir():
		return fmt.Errorf("%s %q is a directory, not the rsync binary", what, path)
	}
	return nil
}

// optString reads a setting that is a string or None ("" when unset).
func (b *builder) optString(g starlark.StringDict, name string) (string, error) {
	v, ok := g[name]
	if !ok || v == starlark.None {
		return "", nil
	}
	s, ok := v.(starlark.String)
	if !ok {
		return "", b.errAt(b.src.settingPos(name), "%s must be a string, got %s", name, describe(v))
	}
	if hasNUL(string(s)) {
		return "", b.errAt(b.src.settingPos(name), "%s", nulMessage(name, string(s)))
	}
	return string(s), nil
}

// strList reads a setting that is a list or tuple of strings.
func (b *builder) strList(g starlark.StringDict, name string) ([]string, error) {
	v := g[name]
	items, ok := sequence(v)
	if !ok {
		e := b.errAt(b.src.settingPos(name), "%s must be a list of strings, got %s", name, describe(v))
		if s, isStr := v.(starlark.String); isStr {
			e.Msg += fmt.Sprintf(" (write %s = [%s])", name, s.String())
		}
		return nil, e
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(starlark.String)
		if !ok {
			return nil, b.errAt(b.src.elemPos(name, i), "%s[%d] must be a string, got %s", name, i, describe(it))
		}
		if hasNUL(string(s)) {
			return nil, b.errAt(b.src.elemPos(name, i), "%s", nulMessage(fmt.Sprintf("%s[%d]", name, i), string(s)))
		}
		out = append(out, string(s))
	}
	return out, nil
}

// nearMisses warns about variables that look like a misspelt setting.
func (b *builder) nearMisses(g starlark.StringDict, form string) {
	names := g.Keys()
	sort.Strings(names)
	for _, n := range names {
		if form == "wpaths" && (n == "wpath") {
			b.warnAt(b.src.settingPos(n), "wpath is ignored because wpaths is set")
			continue
		}
		if isSetting(n) || strings.HasPrefix(n, "_") {
			continue
		}
		switch g[n].(type) {
		case *starlarkstruct.Module, starlark.Callable:
			continue // an import or a helper function
		}
		if m := nearestName(n, settingNames); m != "" {
			b.warnAt(b.src.settingPos(n), "%s is not a setting inosync reads; did you mean %s?", n, m)
		}
	}
}

func isSetting(n string) bool {
	for _, s := range settingNames {
		if s == n {
			return true
		}
	}
	return false
}

// nested warns when one watched path lies inside another.
func (b *builder) nested(syncs []Sync) {
	for i, a := range syncs {
		for j, o := range syncs {
			ca, co := filepath.Clean(a.Source), filepath.Clean(o.Source)
			if i != j && ca != co && strings.HasPrefix(ca+"/", co+"/") {
				b.warnAt(place{}, "%s lies inside %s: its files are synced by both, as 0.2.3 did", a.Source, o.Source)
			}
		}
	}
}

// sequence returns the items of a list or tuple.
func sequence(v starlark.Value) ([]starlark.Value, bool) {
	switch x := v.(type) {
	case *starlark.List:
		out := make([]starlark.Value, x.Len())
		for i := range out {
			out[i] = x.Index(i)
		}
		return out, true
	case starlark.Tuple:
		return []starlark.Value(x), true
	}
	return nil, false
}

// describe names a value's type for a message, with the value when short.
func describe(v starlark.Value) string {
	if v == nil {
		return "nothing"
	}
	s := v.String()
	if len(s) > 40 {
		return v.Type()
	}
	return v.Type() + " " + s
}

func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}

// nearest returns the candidate closest to s within maxDist edits
// (Damerau-Levenshtein, case-insensitive), or "".
// nearestName is the name of candidates that n is most likely a
// misspelling of: one edit away, or two when both names are 6 letters or
// longer; "" when none is.
func nearestName(n string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		limit := 2
		if min(len(n), len(c)) < 6 {
			limit = 1
		}
		if d := editDistance(strings.ToLower(n), strings.ToLower(c)); d > 0 && d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func nearest(s string, candidates []string, maxDist int) string {
	best, bestD := "", maxDist+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD && d > 0 {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// checkPatterns compiles each tree's exclude patterns, so that a pattern
// rsync would silently ignore (an unclosed '[') is reported at load.
func (b *builder) checkPatterns(syncs []Sync) error {
	for _, s := range syncs {
		if _, err := filter.Compile(s.Excludes); err != nil {
			p := b.src.settingPos("rexcludes")
			if s.Pos != "" {
				return &Error{File: s.Pos, Msg: fmt.Sprintf("excludes: %v (rsync would silently ignore it)", err)}
			}
			return b.errAt(p, "rexcludes: %v (rsync would silently ignore it)", err)
		}
	}
	return nil
}

// anyNUL is the last word on NUL bytes: the settings are checked as they
// are read, with their positions; this finds one that a future setting
// forgot, at the file.
func (b *builder) anyNUL(c *Config) error {
	values := append([]string{c.Rsync, c.Bwlimit, c.Logfile, c.ControlSocket, c.StatusFile, c.MetricsListen}, c.Extra...)
	for _, s := range c.Syncs {
		values = append(values, s.Source, s.Target, s.Bwlimit, s.Rsync)
		values = append(values, s.Excludes...)
		values = append(values, s.Extra...)
		for _, d := range s.Dests {
			values = append(values, d.Node, d.Path)
		}
	}
	for _, v := range values {
		if hasNUL(v) {
			return &Error{File: b.src.name, Msg: nulMessage("a setting", v)}
		}
	}
	return nil
}
