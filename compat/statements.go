package compat

// stmt is one simple statement, or the header of a compound statement, as a
// range of tokens.
type stmt struct {
	first, end int // token indices [first, end), without ";" or NEWLINE
	logical    int
	lineStart  bool // first statement of its logical line
	header     bool // a compound statement's header, ending in its ":"
}

// span is the token indices [s, e).
type span struct{ s, e int }

// text returns the source text of token i.
func (r *rewriter) text(i int) string {
	t := r.toks[i]
	return string(r.src[t.start:t.end])
}

// isOp reports whether token i exists and is one of the operators ops.
func (r *rewriter) isOp(i int, ops ...string) bool {
	if i < 0 || i >= len(r.toks) || r.toks[i].kind != tkOp {
		return false
	}
	s := r.text(i)
	for _, op := range ops {
		if s == op {
			return true
		}
	}
	return false
}

// isName reports whether token i exists and is one of the names names.
func (r *rewriter) isName(i int, names ...string) bool {
	if i < 0 || i >= len(r.toks) || r.toks[i].kind != tkName {
		return false
	}
	s := r.text(i)
	for _, n := range names {
		if s == n {
			return true
		}
	}
	return false
}

// isCompound reports whether keyword s starts a compound statement, whose
// header ends at a ":".
func isCompound(s string) bool {
	switch s {
	case "if", "elif", "else", "for", "while", "def", "class", "try", "except", "finally", "with":
		return true
	}
	return false
}

// statements splits the tokens into r.stmts: at the end of each logical
// line, at each ";" outside brackets, and after the ":" outside brackets that
// ends a compound statement's header (a lambda's ":" in the header does not).
func (r *rewriter) statements() {
	start := 0
	lineStart := true
	header, lambdas := false, 0
	closeStmt := func(end int, isHeader bool) {
		if end > start {
			r.stmts = append(r.stmts, stmt{first: start, end: end, logical: r.toks[start].logical, lineStart: lineStart, header: isHeader})
			lineStart = false
		}
	}
	for i, t := range r.toks {
		if i == start && t.kind == tkName && isCompound(r.text(i)) {
			header, lambdas = true, 0
		}
		switch {
		case t.kind == tkNewline || t.kind == tkEOF:
			closeStmt(i, false)
			start, lineStart, header = i+1, true, false
		case t.kind == tkOp && t.depth == 0 && r.text(i) == ";":
			closeStmt(i, false)
			start, header = i+1, false
		case header && t.depth == 0 && r.isName(i, "lambda"):
			lambdas++
		case header && t.depth == 0 && r.isOp(i, ":"):
			if lambdas > 0 {
				lambdas--
				break
			}
			closeStmt(i+1, true)
			start, header = i+1, false
		}
	}
}
