package compat

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tkName tokKind = iota
	tkNumber
	tkString
	tkOp
	tkNewline // end of a logical line (zero width at EOF)
	tkEOF
)

// Token flags.
const (
	fInt     = 1 << iota // integer literal
	fLong                // integer literal with an L suffix
	fBad                 // unterminated string
	fRaw                 // raw string
	fUnicode             // u-string
	fBytes               // b-string
	fFormat              // f-string (left alone)
)

// token is one token of the source, src[start:end].
type token struct {
	kind       tokKind
	flags      uint8
	start, end int
	depth      int // bracket depth (an opener/closer has the outer depth)
	prefix     int // string prefix length
	quote      int // 1 or 3
	logical    int // logical line index
}

// lex tokenizes src. indents[k] is the indentation width (tabs to multiples
// of 8) of logical line k.
func lex(src []byte) (toks []token, indents []int) {
	depth, logical := 0, 0
	lineHasTok := false
	add := func(t token) {
		if !lineHasTok {
			lineHasTok = true
			indents = append(indents, indentWidth(src, t.start))
		}
		t.logical = logical
		toks = append(toks, t)
	}
	n := len(src)
	i := 0
	for i < n {
		c := src[i]
		switch {
		case c == '\n':
			if depth == 0 && lineHasTok {
				toks = append(toks, token{kind: tkNewline, start: i, end: i + 1, logical: logical})
				logical++
				lineHasTok = false
			}
			i++
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			i++
		case c == '#':
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '\\' && i+1 < n && src[i+1] == '\n':
			i += 2
		case c == '\\' && i+2 < n && src[i+1] == '\r' && src[i+2] == '\n':
			i += 3
		case isDigit(c) || c == '.' && i+1 < n && isDigit(src[i+1]):
			t := token{kind: tkNumber, start: i, depth: depth}
			t.end, t.flags = scanNumber(src, i)
			add(t)
			i = t.end
		case c == '"' || c == '\'':
			t := scanString(src, i, i, depth)
			add(t)
			i = t.end
		case isIdentStart(c):
			j := i + 1
			for j < n && isIdent(src[j]) {
				j++
			}
			if j < n && (src[j] == '"' || src[j] == '\'') && isStringPrefix(src[i:j]) {
				t := scanString(src, i, j, depth)
				add(t)
				i = t.end
				continue
			}
			add(token{kind: tkName, start: i, end: j, depth: depth})
			i = j
		default:
			l := opLen(src[i:])
			t := token{kind: tkOp, start: i, end: i + l, depth: depth}
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				if depth > 0 {
					depth--
				}
				t.depth = depth
			}
			add(t)
			i += l
		}
	}
	if lineHasTok {
		toks = append(toks, token{kind: tkNewline, start: n, end: n, logical: logical})
	}
	toks = append(toks, token{kind: tkEOF, start: n, end: n, logical: logical + 1})
	return toks, indents
}

// indentWidth is the width of the indentation before offset start on its
// line, tabs to multiples of 8.
func indentWidth(src []byte, start int) int {
	ls := bytes.LastIndexByte(src[:start], '\n') + 1
	w := 0
	for _, c := range src[ls:start] {
		switch c {
		case '\t':
			w = w/8*8 + 8
		case ' ':
			w++
		default:
			w = 0 // e.g. a continuation: not a real indentation
		}
	}
	return w
}

// Byte classes of the tokenizer; every non-ASCII byte may be part of a name.
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }
func isIdentStart(c byte) bool { return c == '_' || 'a' <= c|0x20 && c|0x20 <= 'z' || c >= 0x80 }
func isIdent(c byte) bool      { return isIdentStart(c) || isDigit(c) }

// isStringPrefix reports whether p, ignoring case, is a prefix that Python
// allows before a string literal.
func isStringPrefix(p []byte) bool {
	switch strings.ToLower(string(p)) {
	case "u", "r", "b", "ur", "br", "rb", "f", "fr", "rf":
		return true
	}
	return false
}

// scanNumber scans a number starting at i and returns its end and flags.
func scanNumber(src []byte, i int) (int, uint8) {
	n := len(src)
	j := i
	isInt := true
	if src[j] == '0' && j+1 < n && strings.IndexByte("xXoObB", src[j+1]) >= 0 {
		j += 2
		for j < n && (isHex(src[j]) || src[j] == '_') {
			j++
		}
	} else {
		for j < n && (isDigit(src[j]) || src[j] == '_') {
			j++
		}
		if j < n && src[j] == '.' {
			isInt = false
			j++
			for j < n && isDigit(src[j]) {
				j++
			}
		}
		if j < n && (src[j] == 'e' || src[j] == 'E') {
			k := j + 1
			if k < n && (src[k] == '+' || src[k] == '-') {
				k++
			}
			if k < n && isDigit(src[k]) {
				isInt = false
				j = k
				for j < n && isDigit(src[j]) {
					j++
				}
			}
		}
		if j < n && (src[j] == 'j' || src[j] == 'J') {
			return j + 1, 0
		}
	}
	if !isInt {
		return j, 0
	}
	if j < n && (src[j] == 'l' || src[j] == 'L') && (j+1 >= n || !isIdent(src[j+1])) {
		return j + 1, fInt | fLong
	}
	return j, fInt
}

// scanString scans a string literal whose prefix starts at start and whose
// opening quote is at q.
func scanString(src []byte, start, q, depth int) token {
	t := token{kind: tkString, start: start, depth: depth, prefix: q - start, quote: 1}
	for _, c := range strings.ToLower(string(src[start:q])) {
		switch c {
		case 'r':
			t.flags |= fRaw
		case 'u':
			t.flags |= fUnicode
		case 'b':
			t.flags |= fBytes
		case 'f':
			t.flags |= fFormat
		}
	}
	n := len(src)
	qc := src[q]
	if q+2 < n && src[q+1] == qc && src[q+2] == qc {
		t.quote = 3
	}
	j := q + t.quote
	for {
		if j >= n {
			t.flags |= fBad
			t.end = n
			return t
		}
		c := src[j]
		switch {
		case c == '\\':
			if j+2 < n && src[j+1] == '\r' && src[j+2] == '\n' {
				j += 3
			} else {
				j += 2
			}
			if j > n {
				j = n
			}
			continue
		case c == '\n' && t.quote == 1:
			t.flags |= fBad
			t.end = j
			return t
		case c == qc:
			if t.quote == 1 {
				t.end = j + 1
				return t
			}
			if j+2 < n && src[j+1] == qc && src[j+2] == qc {
				t.end = j + 3
				return t
			}
		}
		j++
	}
}

// opLen returns the length of the operator at the start of s: three or two
// bytes for the longer operators, else that of the first rune.
func opLen(s []byte) int {
	for _, op := range [...]string{"**=", "//=", ">>=", "<<="} {
		if bytes.HasPrefix(s, []byte(op)) {
			return 3
		}
	}
	if len(s) >= 2 {
		switch string(s[:2]) {
		case "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "<>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "->":
			return 2
		}
	}
	if s[0] < utf8.RuneSelf {
		return 1
	}
	_, l := utf8.DecodeRune(s)
	return l
}
