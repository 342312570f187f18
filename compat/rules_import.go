package compat

import (
	"slices"
	"strings"
)

// tryBlock is a try statement: its indentation, how far its clauses have
// got, the modules its body imports, and its header.
type tryBlock struct {
	indent, logical int
	state           int // 0 body, 1 except seen, 2 else seen, 3 finally seen
	names           []string
	header          span // token range of the try header, ":" included
}

// importAndTryEdits rewrites import statements (rule 1) and try statements
// (rule 2) in one pass: a try header names the modules that the imports in
// its body import.
func (r *rewriter) importAndTryEdits() {
	var stack []*tryBlock // the try statements still open, innermost last
	var tries []*tryBlock
	for _, s := range r.stmts {
		indent := r.indents[s.logical]
		kw := ""
		if r.toks[s.first].kind == tkName {
			kw = r.text(s.first)
		}
		clause := s.header && (kw == "except" || kw == "else" || kw == "finally")
		if s.lineStart {
			stack = closeTries(stack, indent, kw, clause)
		}
		if clause && s.lineStart && len(stack) > 0 && stack[len(stack)-1].indent == indent {
			r.clauseEdit(stack[len(stack)-1], kw, s)
			continue
		}
		if s.header && kw == "try" && s.end-s.first == 2 {
			tb := &tryBlock{indent: indent, logical: s.logical, header: span{s.first, s.end}}
			stack = append(stack, tb)
			tries = append(tries, tb)
			continue
		}
		if kw != "import" && kw != "from" {
			continue
		}
		repl, mods, what, ok := r.parseImport(s)
		if !ok {
			continue
		}
		for _, tb := range stack {
			if tb.state == 0 {
				tb.addNames(mods)
			}
		}
		r.addRange(r.toks[s.first].start, r.toks[s.end-1].end, repl, what)
	}
	for _, tb := range tries {
		r.addRange(r.toks[tb.header.s].start, r.toks[tb.header.e-1].end, "if "+tryCall(tb)+":", "try")
	}
}

// closeTries pops off stack the try statements that a statement starting a
// line at indent ends: those indented as deep as it or deeper, but not one
// at its own indentation that the statement, a clause (kw), can continue.
func closeTries(stack []*tryBlock, indent int, kw string, clause bool) []*tryBlock {
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		if indent > top.indent {
			break
		}
		if indent == top.indent && clause && (kw != "else" || top.state == 1) && top.state < 3 {
			break
		}
		stack = stack[:len(stack)-1]
	}
	return stack
}

// clauseEdit rewrites the header of statement s, the except, else or
// finally clause kw of try statement tb, and records that tb reached it.
func (r *rewriter) clauseEdit(tb *tryBlock, kw string, s stmt) {
	start, end := r.toks[s.first].start, r.toks[s.end-1].end
	switch kw {
	case "except":
		if tb.state == 0 {
			r.addRange(start, end, "else:", "except")
		} else {
			r.addRange(start, end, "if False:", "except")
		}
		tb.state = 1
	case "else":
		r.addRange(start, end, "if "+tryCall(tb)+":", "try else")
		tb.state = 2
	case "finally":
		r.addRange(start, end, "if True:", "finally")
		tb.state = 3
	}
}

// addNames adds to tb.names the modules of mods it does not hold yet.
func (tb *tryBlock) addNames(mods []string) {
	for _, m := range mods {
		if !slices.Contains(tb.names, m) {
			tb.names = append(tb.names, m)
		}
	}
}

// tryCall returns the __compat_try__ call that tests tb's modules.
func tryCall(tb *tryBlock) string {
	q := make([]string, len(tb.names))
	for i, n := range tb.names {
		q[i] = `"` + n + `"`
	}
	return "__compat_try__(" + strings.Join(q, ", ") + ")"
}

// dotted parses NAME ("." NAME)* at i and returns its text and the index
// after it.
func (r *rewriter) dotted(i, end int) (string, int, bool) {
	if i >= end || r.toks[i].kind != tkName {
		return "", i, false
	}
	s := r.text(i)
	i++
	for i+1 < end && r.isOp(i, ".") && r.toks[i+1].kind == tkName {
		s += "." + r.text(i+1)
		i += 2
	}
	return s, i, true
}

// parseImport parses an import statement and returns its replacement, the
// modules it names, its note and whether it parsed.
func (r *rewriter) parseImport(s stmt) (repl string, mods []string, what string, ok bool) {
	if r.isName(s.first, "import") {
		return r.parsePlainImport(s)
	}
	return r.parseFromImport(s)
}

// parsePlainImport parses "import a.b [as c], ..." for parseImport.
func (r *rewriter) parsePlainImport(s stmt) (repl string, mods []string, what string, ok bool) {
	i, end := s.first+1, s.end
	var parts []string
	for {
		mod, j, ok := r.dotted(i, end)
		if !ok {
			return "", nil, "", false
		}
		bind := mod
		if k := strings.IndexByte(mod, '.'); k >= 0 {
			bind = mod[:k]
		}
		call := `__compat_import__("` + bind + `")`
		if r.isName(j, "as") && j+1 < end && r.toks[j+1].kind == tkName {
			bind = r.text(j + 1)
			call = `__compat_import__("` + mod + `")`
			j += 2
		}
		parts = append(parts, bind+" = "+call)
		mods = append(mods, mod)
		if j == end {
			break
		}
		if !r.isOp(j, ",") {
			return "", nil, "", false
		}
		i = j + 1
	}
	return strings.Join(parts, "; "), mods, "import " + strings.Join(mods, ", "), true
}

// parseFromImport parses "from [.]a.b import c [as d], ...", with or
// without parentheses, and "from a.b import *" for parseImport.
func (r *rewriter) parseFromImport(s stmt) (repl string, mods []string, what string, ok bool) {
	i, end := s.first+1, s.end
	var parts []string
	mod := ""
	for i < end && r.isOp(i, ".") {
		mod += "."
		i++
	}
	if d, j, ok := r.dotted(i, end); ok && !r.isName(i, "import") {
		mod += d
		i = j
	}
	if mod == "" || !r.isName(i, "import") {
		return "", nil, "", false
	}
	i++
	if i+1 == end && r.isOp(i, "*") {
		return `__compat_import_star__("` + mod + `")`, []string{mod}, "from " + mod + " import *", true
	}
	paren := r.isOp(i, "(")
	if paren {
		if !r.isOp(end-1, ")") {
			return "", nil, "", false
		}
		i++
		end--
	}
	var names []string
	for i < end {
		if r.toks[i].kind != tkName {
			return "", nil, "", false
		}
		name, bind := r.text(i), r.text(i)
		i++
		if r.isName(i, "as") && i+1 < end && r.toks[i+1].kind == tkName {
			bind = r.text(i + 1)
			i += 2
		}
		parts = append(parts, bind+` = __compat_import__("`+mod+`").`+name)
		names = append(names, name)
		if i == end {
			break
		}
		if !r.isOp(i, ",") || (i+1 == end && !paren) {
			return "", nil, "", false
		}
		i++
	}
	if len(parts) == 0 {
		return "", nil, "", false
	}
	return strings.Join(parts, "; "), []string{mod}, "from " + mod + " import " + strings.Join(names, ", "), true
}
