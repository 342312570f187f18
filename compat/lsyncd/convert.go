// Package lsyncd converts an lsyncd config (Lua) into an inosync config
// (Starlark). The Lua runs in a sandbox with lsyncd's API stubbed (see
// evaluate); its settings{…} and sync{…} tables are then mapped as
// lsyncd's default-rsync.lua, default-rsyncssh.lua and default-direct.lua
// map them to rsync options, and each part that inosync has no
// equivalent for becomes a comment that names its Lua file:line.
package lsyncd

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// MaxSourceSize bounds the size of an lsyncd config: they are a few KiB.
const MaxSourceSize = 1 << 20

// ConvertFile reads the lsyncd config at path and converts it (Convert)
// in a child process with limits on its memory and CPU time (see
// convertInChild).
func ConvertFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the lsyncd config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the lsyncd config: %w", err)
	}
	if fi.Size() > MaxSourceSize {
		return nil, fmt.Errorf("%s is %d bytes; an lsyncd config of more than %d MiB is not one", path, fi.Size(), MaxSourceSize>>20)
	}
	src := make([]byte, fi.Size())
	if _, err := f.ReadAt(src, 0); err != nil && fi.Size() > 0 {
		return nil, fmt.Errorf("reading the lsyncd config: %w", err)
	}
	return convertInChild(filepath.Base(path), src, DefaultLimits)
}

// Convert runs the lsyncd config src (named name in messages and
// comments) and returns an inosync config that does what it did: one
// sync() per sync{…}, the settings that have an equivalent, and a comment
// at each part that has none. It fails when the Lua does not run, or when
// no sync{…} can be converted.
func Convert(name string, src []byte, lim Limits) ([]byte, error) {
	ev, err := evaluate(name, src, lim)
	if err != nil {
		return nil, err
	}
	out := &output{name: name}
	if ev.oldSettings {
		out.globalNotes = append(out.globalNotes, out.note(settingsLine(src), "settings = {…} is lsyncd 2.0's form, which lsyncd 2.2 refuses (it wants settings {…}); converted as settings for every sync"))
	}
	// In call order: settings{…} applies to the syncs called after it,
	// as in lsyncd (a 2.0 settings = {…}, read at the end, to all).
	settings, line := ev.settings, settingsLine(src)
	for _, c := range ev.syncs {
		for len(settings) > 0 && settings[0].seq < c.seq {
			out.settings(settings[0], line)
			settings = settings[1:]
		}
		out.sync(c)
	}
	for _, c := range settings {
		for _, k := range []string{"delay", "maxDelays", "maxProcesses"} {
			if c.table.RawGetString(k) != lua.LNil {
				out.globalNotes = append(out.globalNotes, out.note(c.line, "settings.%s comes after the last sync{…}: lsyncd applied it to none", k))
			}
		}
		out.settings(c, line)
	}
	out.mergeNodes()
	if out.err != nil {
		return nil, out.err
	}
	if len(out.trees) == 0 {
		if len(ev.syncs) == 0 {
			return nil, fmt.Errorf("%s calls no sync{…}: there is nothing to convert", name)
		}
		return nil, fmt.Errorf("%s: no sync{…} could be converted:\n%s", name, strings.Join(out.globalNotes, "\n"))
	}
	return out.render(), nil
}

// settingsLine is the line of the first settings block or assignment in
// src (0 if none): a settings = {…} table does not say where it was made.
func settingsLine(src []byte) int {
	loc := settingsStart.FindIndex(src)
	if loc == nil {
		return 0
	}
	return 1 + strings.Count(string(src[:loc[0]]), "\n")
}

var settingsStart = regexp.MustCompile(`(?m)^[ \t]*settings\s*[{=(]`)

// tree is one sync() of the result.
type tree struct {
	line        int   // of its sync{…}
	lines       []int // of the sync{…} calls merged into it
	layer       string
	source      string
	target      string
	nodes       []string
	delay       string
	delete      string // "" (True, the default), "False", `"startup"`, `"running"`
	noInit      bool
	excludes    []string
	excludeFrom []string
	filters     []string
	extra       []string // rsync words
	rspeed      string
	timeout     string
	rsync       string
	notes       []string
}

// output is the converted config being built.
type output struct {
	name        string
	err         error      // the first part that cannot be converted safely
	delay       lua.LValue // settings{ delay = … }: every sync's delay
	maxDelays   lua.LValue // settings{ maxDelays = … }: every sync's
	globals     []string   // Starlark lines of the global settings
	globalNotes []string   // comments on settings{…} and on what was not converted
	trees       []tree
	maxDelay    float64
}

// at names a Lua line of the config.
func (o *output) at(line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", o.name, line)
	}
	return o.name
}

// note is a comment at a Lua line of the config, on one line whatever the
// values in it hold.
func (o *output) note(line int, format string, args ...any) string {
	msg := strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(fmt.Sprintf(format, args...))
	return fmt.Sprintf("# %s: %s", o.at(line), msg)
}

// fail records a part that cannot be converted without changing what the
// config does; the first one fails the conversion.
func (o *output) fail(line int, format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("%s: %s", o.at(line), fmt.Sprintf(format, args...))
	}
}

// render writes the config: a header, the global settings, then one
// sync() per tree with its comments above it.
func (o *output) render() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# inosync config converted by inosync --convert from the lsyncd config %s.\n", o.name)
	b.WriteString("# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command\n")
	b.WriteString("# of each tree's first sync. Each comment below names a part of the lsyncd\n")
	b.WriteString("# config that inosync has no equivalent for, at its line.\n")
	b.WriteString("# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error\n")
	b.WriteString("# rsync deletes nothing on the target.\n")
	if o.maxDelay > 60 {
		o.globals = append(o.globals, fmt.Sprintf("max_delay = %s  # the longest delay below (inosync's default caps delays at 60)", number(o.maxDelay)))
	}
	if len(o.globals)+len(o.globalNotes) > 0 {
		b.WriteString("\n")
	}
	for _, n := range o.globalNotes {
		b.WriteString(n + "\n")
	}
	for _, g := range o.globals {
		b.WriteString(g + "\n")
	}
	for _, t := range o.trees {
		b.WriteString("\n")
		for _, n := range t.notes {
			b.WriteString(n + "\n")
		}
		fmt.Fprintf(&b, "# %s: sync{default.%s}\n", o.name+":"+joinInts(t.lines, ","), t.layer)
		b.WriteString("sync(\n")
		arg := func(k, v string) { fmt.Fprintf(&b, "    %s = %s,\n", k, v) }
		arg("source", quote(t.source))
		arg("target", quote(t.target))
		arg("nodes", quoteList(t.nodes))
		arg("delay", t.delay)
		if t.delete != "" {
			arg("delete", t.delete)
		}
		if t.noInit {
			arg("init", "False")
		}
		if len(t.filters) > 0 {
			arg("filters", quoteList(t.filters))
		}
		if len(t.excludes) > 0 {
			arg("excludes", quoteList(t.excludes))
		}
		if len(t.excludeFrom) > 0 {
			arg("exclude_from", quoteList(t.excludeFrom))
		}
		if len(t.extra) > 0 {
			words := make([]string, len(t.extra))
			for i, w := range t.extra {
				words[i] = shellQuote(w)
			}
			arg("extra", quote(strings.Join(words, " ")))
		}
		if t.rspeed != "" {
			arg("rspeed", t.rspeed)
		}
		if t.timeout != "" {
			arg("timeout", t.timeout)
		}
		if t.rsync != "" {
			arg("rsync", quote(t.rsync))
		}
		b.WriteString(")\n")
	}
	return []byte(b.String())
}

// mergeNodes makes one tree of the trees that differ only in their node
// (a loop over hosts in the Lua): one sync() with those nodes.
func (o *output) mergeNodes() {
	var merged []tree
	for _, t := range o.trees {
		i := slices.IndexFunc(merged, func(m tree) bool { return m.sameBut(t) })
		if i < 0 {
			t.lines = []int{t.line}
			merged = append(merged, t)
			continue
		}
		m := &merged[i]
		for _, n := range t.nodes {
			if slices.Contains(m.nodes, n) {
				m.notes = append(m.notes, o.note(t.line, "the same sync{…} to %q again (lsyncd ran it twice); synced once", n+t.target))
				continue
			}
			m.nodes = append(m.nodes, n)
		}
		if !slices.Contains(m.lines, t.line) {
			m.lines = append(m.lines, t.line)
		}
		for _, n := range t.notes {
			if !slices.Contains(m.notes, n) {
				m.notes = append(m.notes, n)
			}
		}
	}
	o.trees = merged
}

// sameBut reports whether two trees differ at most in their nodes, lines
// and notes.
func (t tree) sameBut(u tree) bool {
	return t.layer == u.layer && t.source == u.source && t.target == u.target && t.delay == u.delay && t.delete == u.delete &&
		t.noInit == u.noInit && slices.Equal(t.excludes, u.excludes) && slices.Equal(t.excludeFrom, u.excludeFrom) &&
		slices.Equal(t.filters, u.filters) && slices.Equal(t.extra, u.extra) && t.rspeed == u.rspeed && t.timeout == u.timeout && t.rsync == u.rsync
}

func joinInts(ns []int, sep string) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, sep)
}

// quote is a Starlark string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// shellQuote quotes a word of extra as a POSIX shell would need it (extra
// is split like shell words, and $ is expanded outside single quotes).
func shellQuote(w string) string {
	if w != "" && plainWord.MatchString(w) {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)
