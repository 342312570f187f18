package compat

import "bytes"

// group collects a comparison chain at one bracket depth: start is the
// token index of its first operand and ops its comparison operators;
// forPending means that the in of a for clause, which ends an operand
// instead of comparing, is still to come.
type group struct {
	start      int
	ops        []span
	forPending bool
}

// isBoundaryKeyword reports whether keyword s ends a comparison operand.
func isBoundaryKeyword(s string) bool {
	switch s {
	case "and", "or", "if", "elif", "else", "while", "for", "lambda", "return", "yield",
		"assert", "del", "raise", "exec", "import", "from", "with", "as", "except",
		"try", "finally", "def", "class", "pass", "break", "continue", "global", "nonlocal":
		return true
	}
	return false
}

// isBoundaryOp reports whether operator s ends a comparison operand.
func isBoundaryOp(s string) bool {
	switch s {
	case ",", ":", ";", "=", "->", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^=", ">>=", "<<=":
		return true
	}
	return false
}

// chainEdits rewrites chained comparisons (rule 10), statement by statement,
// with one group per open bracket. prints holds the first token of each
// print statement, whose print ends an operand as a keyword does.
func (r *rewriter) chainEdits(prints map[int]bool) {
	for _, s := range r.stmts {
		stack := []*group{{start: s.first}}
		for i := s.first; i < s.end; i++ {
			t := r.toks[i]
			g := stack[len(stack)-1]
			txt := r.text(i)
			switch t.kind {
			case tkOp:
				switch {
				case txt == "(" || txt == "[" || txt == "{":
					stack = append(stack, &group{start: i + 1})
				case txt == ")" || txt == "]" || txt == "}":
					if len(stack) > 1 {
						r.finishChain(g, i)
						stack = stack[:len(stack)-1]
					}
				case isBoundaryOp(txt):
					r.finishChain(g, i)
					*g = group{start: i + 1, forPending: g.forPending}
				case txt == "<" || txt == ">" || txt == "==" || txt == "!=" || txt == "<=" || txt == ">=" || txt == "<>":
					g.ops = append(g.ops, span{i, i + 1})
				}
			case tkName:
				switch {
				case prints[i] || isBoundaryKeyword(txt):
					r.finishChain(g, i)
					*g = group{start: i + 1, forPending: g.forPending || txt == "for"}
				case txt == "in" && g.forPending:
					r.finishChain(g, i)
					*g = group{start: i + 1}
				case txt == "in":
					g.ops = append(g.ops, span{i, i + 1})
				case txt == "not" && r.isName(i+1, "in"):
					g.ops = append(g.ops, span{i, i + 2})
					i++
				case txt == "not":
					r.finishChain(g, i)
					*g = group{start: i + 1, forPending: g.forPending}
				case txt == "is" && r.isName(i+1, "not"):
					g.ops = append(g.ops, span{i, i + 2})
					i++
				case txt == "is":
					g.ops = append(g.ops, span{i, i + 1})
				}
			}
		}
		for k := len(stack) - 1; k >= 0; k-- {
			r.finishChain(stack[k], s.end)
		}
	}
}

// finishChain rewrites g's chain, whose last operand ends before token end,
// if it has two comparisons or more and no operand is empty or, in the
// middle, spans lines.
func (r *rewriter) finishChain(g *group, end int) {
	if len(g.ops) < 2 {
		return
	}
	operands := []span{{g.start, g.ops[0].s}}
	for k := 0; k+1 < len(g.ops); k++ {
		operands = append(operands, span{g.ops[k].e, g.ops[k+1].s})
	}
	operands = append(operands, span{g.ops[len(g.ops)-1].e, end})
	for k, o := range operands {
		if o.e <= o.s {
			return
		}
		if k > 0 && k < len(operands)-1 &&
			bytes.IndexByte(r.src[r.toks[o.s].start:r.toks[o.e-1].end], '\n') >= 0 {
			return
		}
	}
	first, last := r.toks[g.start], r.toks[end-1]
	e := r.add(first.start, first.start, "(", "chained comparison")
	e.chain = true
	for _, o := range operands[1 : len(operands)-1] {
		p := r.toks[o.e-1].end
		e := r.add(p, p, " and ", "")
		e.chain, e.dup, e.ds, e.de = true, true, r.toks[o.s].start, p
	}
	e = r.add(last.end, last.end, ")", "")
	e.chain = true
}
