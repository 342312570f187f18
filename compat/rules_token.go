package compat

import (
	"strings"
	"unicode/utf8"
)

// tokenEdits does the rewrites local to one token or two: strings, numbers,
// <>, is / is not, integer division (rules 4 to 8 and 11).
func (r *rewriter) tokenEdits() {
	for i, t := range r.toks {
		switch t.kind {
		case tkString:
			r.stringEdits(t)
		case tkNumber:
			s := string(r.src[t.start:t.end])
			if t.flags&fLong != 0 {
				s = s[:len(s)-1]
				r.add(t.end-1, t.end, "", "long suffix "+r.text(i))
			}
			if t.flags&fInt != 0 && len(s) > 1 && s[0] == '0' && isDigit(s[1]) && strings.Trim(s, "0") != "" && strings.Trim(s, "01234567") == "" {
				r.add(t.start, t.start+1, "0o", "octal literal "+s)
			}
		case tkOp:
			switch r.text(i) {
			case "<>":
				r.add(t.start, t.end, "!=", "<> operator")
			case "/":
				if i > 0 && r.toks[i-1].kind == tkNumber && r.toks[i-1].flags&fInt != 0 &&
					r.toks[i+1].kind == tkNumber && r.toks[i+1].flags&fInt != 0 &&
					!r.isOp(i-2, "*", "/", "//", "%", "**", ".") && !r.isOp(i+2, "**") {
					r.add(t.start, t.end, "//", "integer division "+r.text(i-1)+"/"+r.text(i+1))
				}
			}
		case tkName:
			if r.text(i) == "is" {
				if r.isName(i+1, "not") {
					r.add(t.start, r.toks[i+1].end, "!=", "is not operator")
				} else {
					r.add(t.start, t.end, "==", "is operator")
				}
			}
		}
	}
}

// stringEdits rewrites the prefix (rule 4) and the escapes (rule 5) of
// string token t; unterminated strings and f-strings are left alone.
func (r *rewriter) stringEdits(t token) {
	if t.flags&(fBad|fFormat) != 0 {
		return
	}
	if t.prefix > 0 {
		p := ""
		switch {
		case t.flags&fRaw != 0 && t.flags&fBytes != 0:
			p = "rb"
		case t.flags&fRaw != 0:
			p = "r"
		case t.flags&fBytes != 0:
			p = "b"
		}
		if old := string(r.src[t.start : t.start+t.prefix]); old != p {
			r.add(t.start, t.start+t.prefix, p, "string prefix "+old)
		}
	}
	body := r.src[t.start+t.prefix+t.quote : t.end-t.quote]
	base := t.start + t.prefix + t.quote
	for j := 0; j < len(body); j++ {
		if body[j] != '\\' {
			continue
		}
		if j+1 >= len(body) {
			break
		}
		c := body[j+1]
		if c == '\r' && j+2 < len(body) && body[j+2] == '\n' {
			r.add(base+j+1, base+j+2, "", "backslash-CR-LF in string")
			j += 2
			continue
		}
		if t.flags&fRaw != 0 {
			j++
			continue
		}
		ok := strings.IndexByte("\\'\"abfnrtv01234567x\n", c) >= 0 ||
			t.flags&fUnicode != 0 && (c == 'u' || c == 'U')
		if !ok {
			esc := `\`
			if c < utf8.RuneSelf {
				esc += string(c)
			}
			r.add(base+j, base+j, `\`, "escape "+esc)
		}
		j++
	}
}
