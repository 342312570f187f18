package compat

import "strings"

// concatEdits joins adjacent string literals (rule 9).
func (r *rewriter) concatEdits() {
	for i := 0; i < len(r.toks); i++ {
		if !r.isGoodString(i) || !r.isGoodString(i+1) {
			continue
		}
		j := i
		for r.isGoodString(j + 1) {
			j++
		}
		r.add(r.toks[i].start, r.toks[i].start, "(", "implicit string concatenation")
		for k := i; k < j; k++ {
			a, b := r.toks[k].end, r.toks[k+1].start
			if strings.Trim(string(r.src[a:b]), " \t") == "" {
				r.add(a, b, " + ", "")
			} else {
				r.add(a, a, " +", "")
			}
		}
		r.add(r.toks[j].end, r.toks[j].end, ")", "")
		i = j
	}
}

// isGoodString reports whether token i is a string literal that
// concatEdits may join: terminated and not an f-string.
func (r *rewriter) isGoodString(i int) bool {
	return i < len(r.toks) && r.toks[i].kind == tkString && r.toks[i].flags&(fBad|fFormat) == 0
}
