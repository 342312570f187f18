package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/inosync/inosync/compat"
)

// Convert rewrites the legacy config at path (the wpaths/rpaths form of
// master 0.2.3, or the singular wpath form of 0.2.1, the tagged 0.2.3 and
// the forks) into the sync() form of contract 3, and returns the new text.
//
// The file is first loaded as Load does: a config that does not load is
// reported with Load's own error. The text is then edited, not regenerated,
// so comments and helper code stay where they are: the top-level
// assignments of the legacy tree variables (wpaths, rpaths, rexcludes,
// wpath, and in the singular form excludes when it was read) are removed,
// together with the comment lines directly above them, and one sync() call
// per watched path is appended (before the first statement that calls
// sync(), if the file already does), with literal values and the moved
// comments above the keyword they describe. In the singular form extra,
// which that form never read, is kept commented out beside the calls. A
// legacy variable that other code still reads is renamed (wpath → _wpath)
// instead of removed; rpath and the global settings (rnodes, extra, rspeed,
// emask, edelay, logfile, rsync) stay as they are.
//
// The result is checked before it is returned: loaded as if it were the
// file at path, it must give the same initial rsync commands, events,
// delays and hooks. A legacy variable set inside an if/for/while block, or
// on a line shared with another statement, cannot be converted: the *Error
// names its line.
func Convert(path string, opts Options) ([]byte, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	cfg, err := Load(path, opts)
	if err != nil {
		return nil, err
	}
	if cfg.Form != "wpaths" && cfg.Form != "wpath" {
		return nil, &Error{File: path, Msg: "nothing to convert: the config sets neither wpaths nor wpath (it already uses sync())"}
	}
	ev, err := evaluateRaw(path, nil, opts)
	if err != nil {
		return nil, err
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the configuration file: %v", unwrapPathError(err))}
	}
	out, err := newConverter(path, orig, ev, cfg).convert()
	if err != nil {
		return nil, err
	}
	if err := verifyConversion(path, out, opts, cfg); err != nil {
		return nil, err
	}
	return out, nil
}

// evaluation is one run of a config file, kept for Convert: its syntax
// tree, raw globals and where sync() was first called from.
type evaluation struct {
	top     *source
	b       *builder
	globals starlark.StringDict
	// firstSync is the position, in the top file's own top-level code, of
	// the statement that made the first sync() call; invalid when none.
	firstSync syntax.Position
}

// evaluateRaw runs the config as Load does, without validating it; text, when
// not nil, stands in for the file's contents. The config's print() output
// is discarded.
func evaluateRaw(path string, text []byte, opts Options) (*evaluation, error) {
	quiet := opts
	quiet.Print = nil
	l := newLoader(path, quiet)
	var top *source
	if text == nil {
		var err error
		if top, err = l.read(path); err != nil {
			return nil, err
		}
	} else {
		rw, err := compat.Rewrite(path, text)
		if err != nil {
			return nil, &Error{File: path, Msg: err.Error()}
		}
		top = &source{name: path, rewrite: rw}
		l.sources[path] = top
	}
	ev := &evaluation{top: top, b: &builder{l: l, src: top}}
	predeclared := l.builtins(path)
	for k, v := range ev.b.builtins() {
		predeclared[k] = v
	}
	predeclared["sync"] = starlark.NewBuiltin("sync", func(th *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if !ev.firstSync.IsValid() {
			if st := th.CallStack(); len(st) > 0 && st[0].Pos.Filename() == path {
				ev.firstSync = st[0].Pos
			}
		}
		return ev.b.syncBuiltin(th, fn, args, kwargs)
	})
	globals, err := l.exec(top, predeclared)
	if err != nil {
		return nil, err
	}
	ev.globals = globals
	return ev, nil
}

// verifyConversion loads the converted text as if it were the file at path
// and compares what it would run with the original's Config.
func verifyConversion(path string, text []byte, opts Options, want *Config) error {
	fail := func(format string, args ...any) error {
		return &Error{File: path, Msg: "cannot convert: " + fmt.Sprintf(format, args...) + "; convert this config by hand"}
	}
	ev, err := evaluateRaw(path, text, opts)
	if err != nil {
		return fail("the converted config would not load (%v)", err)
	}
	got, err := ev.b.validate(ev.globals, opts)
	if err != nil {
		return fail("the converted config would not load (%v)", err)
	}
	if !sameRuns(got, want) {
		return fail("the converted config would run other rsync commands")
	}
	if !slices.Equal(got.Events, want.Events) {
		return fail("the converted config would react to other events")
	}
	if len(got.Syncs) != len(want.Syncs) {
		return fail("the converted config would watch other paths")
	}
	for i, s := range got.Syncs {
		w := want.Syncs[i]
		if s.Delay != w.Delay || len(s.ExcludeHooks) != len(w.ExcludeHooks) || len(s.FilterHooks) != len(w.FilterHooks) {
			return fail("the converted config would treat %s differently", w.Source)
		}
	}
	return nil
}

// convComment is one # comment of the original text.
type convComment struct {
	off   int    // byte offset of '#' in its line
	text  string // from '#' to the end of the line
	whole bool   // nothing but blanks before it on its line
}

// legacyVar is one legacy setting the conversion removes or renames.
type legacyVar struct {
	name    string
	keyword string // the sync() keyword its comments go above; "" = above the call
	stmts   []int  // indexes of its top-level `name = …` / `name += …` statements
	rename  string // new name when other code reads it; "" = removed
}

type converter struct {
	path  string
	cfg   *Config
	ev    *evaluation
	lines []string // original text, split at '\n'
	stmts []syntax.Stmt
	spans [][2]int32 // line range of each top-level statement
	cmts  map[int32]convComment
	vars  []*legacyVar
}

func newConverter(path string, orig []byte, ev *evaluation, cfg *Config) *converter {
	text := strings.TrimSuffix(string(orig), "\n")
	c := &converter{path: path, cfg: cfg, ev: ev, lines: strings.Split(text, "\n"), stmts: ev.top.file.Stmts}
	for _, st := range c.stmts {
		start, end := st.Span()
		c.spans = append(c.spans, [2]int32{start.Line, end.Line})
	}
	return c
}

func (c *converter) errAt(pos syntax.Position, format string, args ...any) *Error {
	p := c.ev.top.orig(pos)
	return &Error{File: c.path, Line: p.line, Col: p.col, Msg: "cannot convert: " + fmt.Sprintf(format, args...)}
}

// convert returns the converted text: plan decides what changes, render
// writes it out.
func (c *converter) convert() ([]byte, error) {
	p, err := c.plan()
	if err != nil {
		return nil, err
	}
	return p.render(), nil
}

// convPlan is a planned conversion: the lines of the file with the renames
// done, the lines that go, and the sync() block and where it goes.
type convPlan struct {
	lines    []string       // the original lines, renamed variables renamed
	removed  map[int32]bool // lines that go, by line number
	block    []string       // the header comment, the sync() calls and extra
	insertAt int32          // the block goes before this line; len(lines)+1 = at the end
}

// plan decides the conversion: which variables are renamed and which
// removed, which lines and comments go with them, and what the sync()
// block is and where it goes.
func (c *converter) plan() (*convPlan, error) {
	if err := c.readComments(); err != nil {
		return nil, err
	}
	if err := c.findVars(); err != nil {
		return nil, err
	}
	edits, err := c.renames()
	if err != nil {
		return nil, err
	}
	lines := applyEdits(c.lines, edits)
	removed, moved, extraLines, err := c.removals(lines)
	if err != nil {
		return nil, err
	}
	block, err := c.block(moved, extraLines)
	if err != nil {
		return nil, err
	}
	return &convPlan{lines: lines, removed: removed, block: block, insertAt: c.insertLine(removed)}, nil
}

// applyEdits returns lines with the edits of each line applied.
func applyEdits(lines []string, edits map[int32][]convEdit) []string {
	lines = slices.Clone(lines)
	for l, e := range edits {
		line := lines[l-1]
		for _, ed := range e { // right to left
			line = line[:ed.off] + ed.repl + line[ed.off+ed.n:]
		}
		lines[l-1] = line
	}
	return lines
}

// removals returns the lines that go: the statements of the variables that
// are removed, with the whole-line comments directly above them. It also
// returns the comments that move into the sync() block, by variable, and
// extra's statements commented out, taken from lines (renames done).
func (c *converter) removals(lines []string) (removed map[int32]bool, moved map[string][]string, extraLines []string, err error) {
	removed = map[int32]bool{}
	moved = map[string][]string{}
	for _, v := range c.vars {
		if v.rename != "" {
			continue
		}
		for _, i := range v.stmts {
			if c.sharesLine(i) {
				start, _ := c.stmts[i].Span()
				return nil, nil, nil, c.errAt(start, "%s shares a line with another statement; put it on a line of its own first", v.name)
			}
			first, last := c.spans[i][0], c.spans[i][1]
			for l := c.commentsAbove(first, nil); l <= last; l++ {
				removed[l] = true
				if v.name == "extra" && l >= first {
					extraLines = append(extraLines, "#"+lines[l-1])
				} else if cm, ok := c.cmts[l]; ok {
					moved[v.name] = append(moved[v.name], cm.text)
				}
			}
		}
	}
	return removed, moved, extraLines, nil
}

// sharesLine reports whether top-level statement i has a line in common
// with another one.
func (c *converter) sharesLine(i int) bool {
	first, last := c.spans[i][0], c.spans[i][1]
	for j, o := range c.spans {
		if j != i && o[0] <= last && o[1] >= first {
			return true
		}
	}
	return false
}

// commentsAbove returns the first line of the whole-line comments directly
// above line l that go with it: outside any statement, not the file's
// preamble, and not in removed; l itself when there are none.
func (c *converter) commentsAbove(l int32, removed map[int32]bool) int32 {
	for l > 1 && c.cmts[l-1].whole && !c.inStmt(l-1) && !removed[l-1] && !c.preamble(l-1) {
		l--
	}
	return l
}

// insertLine returns the line the sync() block goes before: the statement
// that made the first sync() call, with the comments above it that stay,
// or, when the file calls no sync(), len(c.lines)+1.
func (c *converter) insertLine(removed map[int32]bool) int32 {
	if c.ev.firstSync.IsValid() {
		for _, sp := range c.spans {
			if sp[0] <= c.ev.firstSync.Line && c.ev.firstSync.Line <= sp[1] {
				return c.commentsAbove(sp[0], removed)
			}
		}
	}
	return int32(len(c.lines) + 1)
}

// render writes out the planned conversion: the lines that stay, the block
// before p.insertAt set off by one blank line, at most one blank line where
// lines went, and no blank lines at the end. A CRLF file stays CRLF.
func (p *convPlan) render() []byte {
	var out []string
	gap := false
	emitBlock := func() {
		out = trimBlankEnd(out)
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, p.block...)
	}
	for l := int32(1); l <= int32(len(p.lines)); l++ {
		if l == p.insertAt {
			emitBlock()
			if strings.TrimSpace(p.lines[l-1]) != "" && !p.removed[l] {
				out = append(out, "")
			}
			gap = true
		}
		if p.removed[l] {
			gap = true
			continue
		}
		line := p.lines[l-1]
		blank := strings.TrimSpace(line) == ""
		if blank && gap && (len(out) == 0 || strings.TrimSpace(out[len(out)-1]) == "") {
			continue
		}
		if !blank {
			gap = false
		}
		out = append(out, line)
	}
	if p.insertAt > int32(len(p.lines)) {
		emitBlock()
	}
	out = trimBlankEnd(out)
	if strings.HasSuffix(p.lines[0], "\r") { // keep a CRLF file CRLF
		for i, l := range out {
			if !strings.HasSuffix(l, "\r") {
				out[i] = l + "\r"
			}
		}
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// trimBlankEnd drops the blank lines at the end of lines.
func trimBlankEnd(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// preamble reports whether line l is a "#!" line or a coding
// declaration, which belong to the top of the file, not to a statement.
func (c *converter) preamble(l int32) bool {
	if l > 2 {
		return false
	}
	t := c.cmts[l].text
	return strings.HasPrefix(t, "#!") || strings.Contains(t, "coding:") || strings.Contains(t, "coding=")
}

// inStmt reports whether line l lies within a top-level statement.
func (c *converter) inStmt(l int32) bool {
	for _, sp := range c.spans {
		if sp[0] <= l && l <= sp[1] {
			return true
		}
	}
	return false
}

// readComments finds every comment of the top file, by original line.
func (c *converter) readComments() error {
	f, err := fileOptions.Parse(c.path, c.ev.top.rewrite.Src, syntax.RetainComments)
	if err != nil {
		return &Error{File: c.path, Msg: "cannot convert: " + err.Error()}
	}
	c.cmts = map[int32]convComment{}
	add := func(cs []syntax.Comment) {
		for _, cm := range cs {
			line, col := c.ev.top.rewrite.Orig(cm.Start.Line, cm.Start.Col)
			if line < 1 || int(line) > len(c.lines) {
				continue
			}
			text := c.lines[line-1]
			off := runeOffset(text, col)
			if off < 0 || off >= len(text) || text[off] != '#' {
				off = strings.Index(text, strings.TrimRight(cm.Text, "\r"))
				if off < 0 {
					continue
				}
			}
			c.cmts[line] = convComment{off: off, text: strings.TrimRight(text[off:], " \t\r"), whole: strings.TrimSpace(text[:off]) == ""}
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		if n == nil {
			return false
		}
		if cs := n.Comments(); cs != nil {
			add(cs.Before)
			add(cs.Suffix)
			add(cs.After)
		}
		return true
	})
	return nil
}

// runeOffset is the byte offset of 1-based rune column col in s; -1 when
// out of range.
func runeOffset(s string, col int32) int {
	if col < 1 {
		return -1
	}
	n := int32(1)
	for i := range s {
		if n == col {
			return i
		}
		n++
	}
	if n == col {
		return len(s)
	}
	return -1
}

// findVars lists the legacy variables of the config's form, checks where
// they are set, and decides which can be removed and which must be renamed
// because other code reads them.
func (c *converter) findVars() error {
	g := c.ev.globals
	var names []string
	var keywords map[string]string
	if c.cfg.Form == "wpaths" {
		names = []string{"wpaths", "rpaths", "rexcludes", "wpath"}
		keywords = map[string]string{"wpaths": "source", "rpaths": "target", "rexcludes": "excludes"}
	} else {
		ex := "rexcludes"
		if !g.Has(ex) && g.Has("excludes") {
			ex = "excludes"
		}
		names = []string{"wpath", ex, "rpaths", "extra"}
		keywords = map[string]string{"wpath": "source", ex: "excludes"}
	}
	for _, name := range names {
		v := &legacyVar{name: name, keyword: keywords[name]}
		for i, st := range c.stmts {
			if a, ok := st.(*syntax.AssignStmt); ok {
				if id, ok := unparen(a.LHS).(*syntax.Ident); ok && id.Name == name {
					v.stmts = append(v.stmts, i)
				}
				continue
			}
			if pos, ok := bindsInBlock(st, name); ok {
				return c.errAt(pos, "%s is set inside a block; move it to the top level first", name)
			}
		}
		if len(v.stmts) > 0 || g.Has(name) {
			c.vars = append(c.vars, v)
		}
	}
	// A variable read outside the removed statements is renamed instead;
	// renaming keeps more statements, so repeat until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, v := range c.vars {
			if v.rename == "" && c.isRead(v) {
				v.rename = c.freshName("_" + v.name)
				changed = true
			}
		}
	}
	return nil
}

// bindsInBlock finds a binding of name inside a top-level if/for/while.
func bindsInBlock(st syntax.Stmt, name string) (syntax.Position, bool) {
	var found syntax.Position
	var visit func(stmts []syntax.Stmt, inBlock bool)
	visit = func(stmts []syntax.Stmt, inBlock bool) {
		for _, st := range stmts {
			if found.IsValid() {
				return
			}
			switch st := st.(type) {
			case *syntax.AssignStmt:
				if inBlock && assigns(st.LHS, name) {
					found, _ = st.Span()
				}
			case *syntax.DefStmt:
				if inBlock && st.Name.Name == name {
					found = st.Def
				}
			case *syntax.IfStmt:
				visit(st.True, true)
				visit(st.False, true)
			case *syntax.ForStmt:
				if assigns(st.Vars, name) {
					found = st.For
				}
				visit(st.Body, true)
			case *syntax.WhileStmt:
				visit(st.Body, true)
			}
		}
	}
	visit([]syntax.Stmt{st}, false)
	return found, found.IsValid()
}

// globalIdents calls f for every use of a global name in statement st.
func globalIdents(st syntax.Stmt, f func(id *syntax.Ident)) {
	syntax.Walk(st, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok {
			if b, ok := id.Binding.(*resolve.Binding); ok && b.Scope == resolve.Global {
				f(id)
			}
		}
		return n != nil
	})
}

// isRead reports whether v's name is used outside the statements that
// are going to be removed (its own assignments' left-hand sides aside).
func (c *converter) isRead(v *legacyVar) bool {
	gone := map[int]bool{}
	for _, o := range c.vars {
		// extra stays in the file commented out, ready to be uncommented:
		// what it reads must stay.
		if o.rename == "" && (o.name != "extra" || v.name == "extra") {
			for _, i := range o.stmts {
				gone[i] = true
			}
		}
	}
	read := false
	for i, st := range c.stmts {
		if gone[i] {
			continue // its reads go with it
		}
		globalIdents(st, func(id *syntax.Ident) {
			if id.Name == v.name {
				read = true
			}
		})
	}
	return read
}

// freshName returns base, or base with a number, that no identifier of the
// file uses yet.
func (c *converter) freshName(base string) string {
	used := map[string]bool{}
	syntax.Walk(c.ev.top.file, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok {
			used[id.Name] = true
		}
		return n != nil
	})
	for _, v := range c.vars {
		used[v.rename] = true
	}
	name := base
	for i := 2; used[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	return name
}

// convEdit replaces n bytes at off of one line.
type convEdit struct {
	off, n int
	repl   string
}

// renames returns, by line, the edits that rename the variables that are
// kept, right to left within each line.
func (c *converter) renames() (map[int32][]convEdit, error) {
	edits := map[int32][]convEdit{}
	seen := map[[2]int32]bool{}
	var err error
	for _, v := range c.vars {
		if v.rename == "" {
			continue
		}
		for _, st := range c.stmts {
			globalIdents(st, func(id *syntax.Ident) {
				if id.Name != v.name || err != nil {
					return
				}
				line, col := c.ev.top.rewrite.Orig(id.NamePos.Line, id.NamePos.Col)
				if seen[[2]int32{line, col}] {
					return
				}
				seen[[2]int32{line, col}] = true
				text := ""
				if line >= 1 && int(line) <= len(c.lines) {
					text = c.lines[line-1]
				}
				off := runeOffset(text, col)
				if off < 0 || !isWordAt(text, off, v.name) {
					err = c.errAt(id.NamePos, "%s is used here in a form that cannot be renamed to %s; rename it by hand first", v.name, v.rename)
					return
				}
				edits[line] = append(edits[line], convEdit{off: off, n: len(v.name), repl: v.rename})
			})
		}
	}
	for _, e := range edits {
		slices.SortFunc(e, func(a, b convEdit) int { return b.off - a.off })
	}
	return edits, err
}

func isWordAt(s string, off int, word string) bool {
	if !strings.HasPrefix(s[off:], word) {
		return false
	}
	isID := func(b byte) bool {
		return b == '_' || '0' <= b && b <= '9' || 'a' <= b|0x20 && b|0x20 <= 'z' || b >= 0x80
	}
	end := off + len(word)
	return (off == 0 || !isID(s[off-1])) && (end == len(s) || !isID(s[end]))
}

// block renders the header comment and the sync() calls, with the moved
// comments, and, in the singular form, the commented-out extra.
func (c *converter) block(moved map[string][]string, extraLines []string) ([]string, error) {
	raw, err := c.watchedPaths()
	if err != nil {
		return nil, err
	}
	var legacy []Sync
	for _, s := range c.cfg.Syncs {
		if s.Pos == "" {
			legacy = append(legacy, s)
		}
	}
	if len(legacy) != len(raw) {
		return nil, &Error{File: c.path, Msg: fmt.Sprintf("cannot convert: %d watched paths but %d trees (please report this as a bug)", len(raw), len(legacy))}
	}
	above, callLevel := c.placeComments(moved, legacy)
	header := "# converted by inosync --convert from the wpaths/rpaths form"
	if c.cfg.Form == "wpath" {
		header = "# converted by inosync --convert from the wpath form"
	}
	out := []string{header}
	for i, s := range legacy {
		var cmts map[string][]string
		if i == 0 {
			out = append(out, callLevel...)
			cmts = above
		}
		out = append(out, syncLines(s, raw[i], cmts)...)
	}
	if len(moved["extra"]) > 0 || len(extraLines) > 0 {
		out = append(out, "")
		out = append(out, moved["extra"]...)
		out = append(out, "# extra was ignored by the wpath form; uncomment to pass it to rsync")
		out = append(out, extraLines...)
	}
	return out, nil
}

// watchedPaths returns the legacy watched paths as the config wrote them
// (wpaths, or the one wpath).
func (c *converter) watchedPaths() ([]string, error) {
	var raw []string
	if c.cfg.Form == "wpaths" {
		items, ok := sequence(c.ev.globals["wpaths"])
		if !ok {
			return nil, &Error{File: c.path, Msg: "cannot convert: wpaths is not a list"}
		}
		for _, it := range items {
			s, _ := starlark.AsString(it)
			raw = append(raw, s)
		}
	} else {
		s, _ := starlark.AsString(c.ev.globals["wpath"])
		raw = []string{s}
	}
	return raw, nil
}

// placeComments decides where the moved comments go in the first sync()
// call: above the keyword their variable becomes (above, by keyword), or
// above the call (callLevel). Comments of an excludes variable go above the
// call when the first tree has no excludes; extra's stay with extra.
func (c *converter) placeComments(moved map[string][]string, legacy []Sync) (above map[string][]string, callLevel []string) {
	above = map[string][]string{}
	for _, v := range c.vars {
		if v.name == "extra" {
			continue
		}
		kw := v.keyword
		if kw == "excludes" && len(legacy[0].Excludes) == legacy[0].globalExcludes {
			kw = ""
		}
		if kw == "" {
			callLevel = append(callLevel, moved[v.name]...)
		} else {
			above[kw] = append(above[kw], moved[v.name]...)
		}
	}
	return above, callLevel
}

// syncLines renders the sync() call of legacy tree s, watched at raw, with
// the comments of above (by keyword) over their keywords.
func syncLines(s Sync, raw string, above map[string][]string) []string {
	const ind = "    "
	target := s.Target
	var nodes []string
	if anyDiffers(s) {
		// Whole destinations (the singular form's nodes with a path).
		for _, d := range s.Dests {
			nodes = append(nodes, d.Path)
		}
		target = ""
	}
	var out []string
	cmts := func(kw string) {
		for _, t := range above[kw] {
			out = append(out, ind+t)
		}
	}
	out = append(out, "sync(")
	cmts("source")
	source := raw
	if !filepath.IsAbs(source) {
		// 0.2.3's abspath dropped a relative wpath's trailing slash;
		// sync() keeps it, so drop it here to sync the same way.
		source = strings.TrimRight(source, "/")
	}
	out = append(out, ind+"source = "+quoteString(source)+",")
	cmts("target")
	out = append(out, ind+"target = "+quoteString(target)+",")
	if nodes != nil {
		out = append(out, listLines(ind, "nodes", nodes)...)
	}
	if own := s.Excludes[:len(s.Excludes)-s.globalExcludes]; len(own) > 0 {
		cmts("excludes")
		out = append(out, listLines(ind, "excludes", own)...)
	}
	return append(out, ")")
}

// anyDiffers reports whether some destination is not node + target.
func anyDiffers(s Sync) bool {
	for _, d := range s.Dests {
		if d.Path != d.Node+s.Target {
			return true
		}
	}
	return false
}

// listLines renders `name = [...],` on one line when it is short, else one
// item per line.
func listLines(ind, name string, items []string) []string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = quoteString(it)
	}
	one := ind + name + " = [" + strings.Join(q, ", ") + "],"
	if utf8.RuneCountInString(one) <= 79 && !strings.Contains(one, "\n") {
		return []string{one}
	}
	out := []string{ind + name + " = ["}
	for _, s := range q {
		out = append(out, ind+ind+s+",")
	}
	return append(out, ind+"],")
}

// quoteString returns a double-quoted string literal for s that reads back as s
// both in Starlark and through compat's Python 2 rewrite: printable and
// non-ASCII text as is, ASCII control characters as \n, \t, \r or \xNN
// (never \u, which Python 2 reads literally outside u-strings).
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch == '\n':
			b.WriteString(`\n`)
		case ch == '\t':
			b.WriteString(`\t`)
		case ch == '\r':
			b.WriteString(`\r`)
		case ch < ' ' || ch == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, ch)
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('"')
	return b.String()
}
