package compat

// findPrints returns the index of the first token of each print statement.
func (r *rewriter) findPrints() map[int]bool {
	m := map[int]bool{}
	for _, s := range r.stmts {
		if s.header || !r.isName(s.first, "print") {
			continue
		}
		if s.end-s.first == 1 {
			m[s.first] = true
			continue
		}
		n := s.first + 1
		switch r.toks[n].kind {
		case tkName, tkNumber, tkString:
			m[s.first] = true
		case tkOp:
			if r.isOp(n, ">>", "-", "+", "~", "{", "`") {
				m[s.first] = true
			}
		}
	}
	return m
}

// printEdits rewrites the print statements whose first tokens prints holds
// into calls (rule 3).
func (r *rewriter) printEdits(prints map[int]bool) {
	for _, s := range r.stmts {
		if !prints[s.first] {
			continue
		}
		p := r.toks[s.first]
		lastTok := r.toks[s.end-1]
		if s.end-s.first == 1 {
			r.add(p.start, p.end, `print("")`, "print statement")
			continue
		}
		argStart := s.first + 1
		if r.isOp(argStart, ">>") {
			comma := -1
			for k := argStart + 1; k < s.end; k++ {
				if r.toks[k].depth == p.depth && r.isOp(k, ",") {
					comma = k
					break
				}
			}
			if comma < 0 || comma == s.end-1 {
				r.add(p.start, lastTok.end, `print("")`, "print statement")
				continue
			}
			argStart = comma + 1
		}
		r.add(p.start, r.toks[argStart].start, "print(", "print statement")
		if r.isOp(s.end-1, ",") && lastTok.depth == p.depth && s.end-1 > argStart {
			r.add(lastTok.start, lastTok.end, ")", "")
		} else {
			r.add(lastTok.end, lastTok.end, ")", "")
		}
	}
}
