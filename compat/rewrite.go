package compat

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Result is a rewritten source and the map back to the original positions.
type Result struct {
	Src   []byte // Starlark source; same number of lines as the input
	Notes []Note // one per rewrite applied (for -v debugging and tests)

	// lines[i] holds the column anchors of line i+1 of Src; nil means the
	// line is unchanged.
	lines [][]anchor
}

// Note describes one rewrite: its position in the original source (1-based
// line and rune column) and what was rewritten, e.g. "print statement",
// "octal literal 0755" or "import os.path".
type Note struct {
	Line, Col int32
	What      string
}

// anchor maps the output columns from out up to the next anchor: when exact,
// column out+k maps to orig+k; otherwise every column maps to orig.
type anchor struct {
	out, orig int32
	exact     bool
}

// Orig maps a (line, col) of Result.Src back to the original source's (line,
// col). Lines are unchanged; a column inside inserted text maps to the column
// where the insertion happened; col 0 stays 0.
func (r *Result) Orig(line, col int32) (int32, int32) {
	if r == nil || col <= 0 || line < 1 || int(line) > len(r.lines) {
		return line, col
	}
	a := r.lines[line-1]
	if a == nil {
		return line, col
	}
	i := sort.Search(len(a), func(i int) bool { return a[i].out > col }) - 1
	if i < 0 {
		return line, col
	}
	if a[i].exact {
		return line, a[i].orig + col - a[i].out
	}
	return line, a[i].orig
}

// Rewrite rewrites Python 2/3 constructs that Starlark lacks, as the
// package documentation lists them. filename is only for error messages.
func Rewrite(filename string, src []byte) (*Result, error) {
	r := &rewriter{src: src}
	r.toks, r.indents = lex(src)
	r.statements()
	r.lineStarts = append(r.lineStarts, 0)
	for i, c := range src {
		if c == '\n' {
			r.lineStarts = append(r.lineStarts, i+1)
		}
	}

	r.tokenEdits()
	r.concatEdits()
	prints := r.findPrints()
	r.chainEdits(prints)
	r.printEdits(prints)
	r.importAndTryEdits()

	res, err := r.apply()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	return res, nil
}

// ---------------------------------------------------------------------------
// Tokenizer

type tokKind uint8

const (
	tkName tokKind = iota
	tkNumber
	tkString
	tkOp
	tkNewline // end of a logical line (zero width at EOF)
	tkEOF
)

const (
	fInt     = 1 << iota // integer literal
	fLong                // integer literal with an L suffix
	fBad                 // unterminated string
	fRaw                 // raw string
	fUnicode             // u-string
	fBytes               // b-string
	fFormat              // f-string (left alone)
)

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
			ls := bytes.LastIndexByte(src[:t.start], '\n') + 1
			w := 0
			for _, c := range src[ls:t.start] {
				switch c {
				case '\t':
					w = w/8*8 + 8
				case ' ':
					w++
				default:
					w = 0 // e.g. a continuation: not a real indentation
				}
			}
			indents = append(indents, w)
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

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }
func isIdentStart(c byte) bool { return c == '_' || 'a' <= c|0x20 && c|0x20 <= 'z' || c >= 0x80 }
func isIdent(c byte) bool      { return isIdentStart(c) || isDigit(c) }

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

// ---------------------------------------------------------------------------
// Statements

type stmt struct {
	first, end int // token indices [first, end), without ";" or NEWLINE
	logical    int
	lineStart  bool // first statement of its logical line
	header     bool // a compound statement's header, ending in its ":"
}

type edit struct {
	start, end int
	repl       string
	chain      bool // inserted by a chained-comparison rewrite
	dup        bool // repl + rendering of src[ds:de]
	ds, de     int
	seq        int
	note       *Note
}

type rewriter struct {
	src        []byte
	toks       []token
	indents    []int
	stmts      []stmt
	lineStarts []int
	edits      []*edit
}

func (r *rewriter) text(i int) string {
	t := r.toks[i]
	return string(r.src[t.start:t.end])
}

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

func isCompound(s string) bool {
	switch s {
	case "if", "elif", "else", "for", "while", "def", "class", "try", "except", "finally", "with":
		return true
	}
	return false
}

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

// ---------------------------------------------------------------------------
// Edits

func (r *rewriter) pos(off int) (int32, int32) {
	l := sort.SearchInts(r.lineStarts, off+1) - 1
	return int32(l + 1), int32(utf8.RuneCount(r.src[r.lineStarts[l]:off]) + 1)
}

func (r *rewriter) add(start, end int, repl, what string) *edit {
	e := &edit{start: start, end: end, repl: repl, seq: len(r.edits)}
	if what != "" {
		l, c := r.pos(start)
		e.note = &Note{Line: l, Col: c, What: what}
	}
	r.edits = append(r.edits, e)
	return e
}

// addRange replaces src[start:end] by repl without moving lines: when the
// range spans lines, repl goes on the first line followed by a backslash
// continuation, and the rest of the range becomes spaces (middle lines end
// in a backslash too).
func (r *rewriter) addRange(start, end int, repl, what string) {
	if bytes.IndexByte(r.src[start:end], '\n') < 0 {
		r.add(start, end, repl, what)
		return
	}
	segStart := start
	first := true
	for segStart <= end {
		nl := bytes.IndexByte(r.src[segStart:end], '\n')
		last := nl < 0
		segEnd := end
		if !last {
			segEnd = segStart + nl
		}
		textEnd := segEnd
		if !last && textEnd > segStart && r.src[textEnd-1] == '\r' {
			textEnd--
		}
		switch {
		case first:
			r.add(segStart, textEnd, repl+" \\", what)
		case last:
			r.add(segStart, textEnd, strings.Repeat(" ", utf8.RuneCount(r.src[segStart:textEnd])), "")
		default:
			r.add(segStart, textEnd, strings.Repeat(" ", utf8.RuneCount(r.src[segStart:textEnd]))+"\\", "")
		}
		first = false
		if last {
			break
		}
		segStart = segEnd + 1
	}
}

// tokenEdits does the rewrites local to one token or two: strings, numbers,
// <>, is / is not, integer division.
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

// concatEdits joins adjacent string literals.
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

func (r *rewriter) isGoodString(i int) bool {
	return i < len(r.toks) && r.toks[i].kind == tkString && r.toks[i].flags&(fBad|fFormat) == 0
}

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

// ---------------------------------------------------------------------------
// Chained comparisons

type span struct{ s, e int } // token indices [s, e)

type group struct {
	start      int
	ops        []span
	forPending bool
}

func isBoundaryKeyword(s string) bool {
	switch s {
	case "and", "or", "if", "elif", "else", "while", "for", "lambda", "return", "yield",
		"assert", "del", "raise", "exec", "import", "from", "with", "as", "except",
		"try", "finally", "def", "class", "pass", "break", "continue", "global", "nonlocal":
		return true
	}
	return false
}

func isBoundaryOp(s string) bool {
	switch s {
	case ",", ":", ";", "=", "->", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^=", ">>=", "<<=":
		return true
	}
	return false
}

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

// ---------------------------------------------------------------------------
// Imports and try

type tryBlock struct {
	indent, logical int
	state           int // 0 body, 1 except seen, 2 else seen, 3 finally seen
	names           []string
	header          span // token range of the try header, ":" included
}

func (r *rewriter) importAndTryEdits() {
	var stack []*tryBlock
	var tries []*tryBlock
	for _, s := range r.stmts {
		indent := r.indents[s.logical]
		kw := ""
		if r.toks[s.first].kind == tkName {
			kw = r.text(s.first)
		}
		clause := s.header && (kw == "except" || kw == "else" || kw == "finally")
		if s.lineStart {
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
		}
		if clause && s.lineStart && len(stack) > 0 && stack[len(stack)-1].indent == indent {
			top := stack[len(stack)-1]
			start, end := r.toks[s.first].start, r.toks[s.end-1].end
			switch kw {
			case "except":
				if top.state == 0 {
					r.addRange(start, end, "else:", "except")
				} else {
					r.addRange(start, end, "if False:", "except")
				}
				top.state = 1
			case "else":
				r.addRange(start, end, "if "+tryCall(top)+":", "try else")
				top.state = 2
			case "finally":
				r.addRange(start, end, "if True:", "finally")
				top.state = 3
			}
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
			next:
				for _, m := range mods {
					for _, n := range tb.names {
						if n == m {
							continue next
						}
					}
					tb.names = append(tb.names, m)
				}
			}
		}
		r.addRange(r.toks[s.first].start, r.toks[s.end-1].end, repl, what)
	}
	for _, tb := range tries {
		r.addRange(r.toks[tb.header.s].start, r.toks[tb.header.e-1].end, "if "+tryCall(tb)+":", "try")
	}
}

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
	i, end := s.first+1, s.end
	var parts []string
	if r.isName(s.first, "import") {
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
	// from
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

// ---------------------------------------------------------------------------
// Applying edits

// sortedEdits orders the edits (by start; insertions before replacements at
// the same offset; then by creation) and drops any that overlap an earlier
// replacement.
func (r *rewriter) sortedEdits() []*edit {
	es := append([]*edit(nil), r.edits...)
	sort.SliceStable(es, func(a, b int) bool {
		x, y := es[a], es[b]
		if x.start != y.start {
			return x.start < y.start
		}
		xz, yz := x.end == x.start, y.end == y.start
		if xz != yz {
			return xz
		}
		return x.seq < y.seq
	})
	kept := es[:0]
	lastEnd := 0
	for _, e := range es {
		if e.start < lastEnd {
			continue
		}
		kept = append(kept, e)
		if e.end > lastEnd {
			lastEnd = e.end
		}
	}
	return kept
}

// render returns src[s:e] with the edits inside it applied, leaving out the
// chained-comparison insertions at its two ends (they belong to the chain
// that duplicates this text).
func (r *rewriter) render(es []*edit, s, e int) string {
	var b strings.Builder
	pos := s
	for _, ed := range es {
		if ed.start < s || ed.end > e || ed.start < pos {
			continue
		}
		if ed.chain && ed.start == ed.end && (ed.start == s || ed.start == e) {
			continue
		}
		b.Write(r.src[pos:ed.start])
		b.WriteString(r.replacement(es, ed))
		pos = ed.end
	}
	b.Write(r.src[pos:e])
	return b.String()
}

func (r *rewriter) replacement(es []*edit, ed *edit) string {
	if ed.dup {
		return ed.repl + r.render(es, ed.ds, ed.de)
	}
	return ed.repl
}

type colWriter struct {
	buf   []byte
	line  int   // 0-based output line
	col   int32 // 1-based rune column of the next output rune
	lines [][]anchor
	dirty []bool
}

func (w *colWriter) anchor(orig int32, exact bool) {
	for len(w.lines) <= w.line {
		w.lines = append(w.lines, nil)
		w.dirty = append(w.dirty, false)
	}
	w.lines[w.line] = append(w.lines[w.line], anchor{out: w.col, orig: orig, exact: exact})
}

// copyOrig copies src[from:to], whose first byte is at original column
// origCol.
func (w *colWriter) copyOrig(src []byte, from, to int, origCol int32) {
	w.anchor(origCol, true)
	for i := from; i < to; {
		c := src[i]
		if c == '\n' {
			w.buf = append(w.buf, c)
			w.line++
			w.col = 1
			i++
			w.anchor(1, true)
			continue
		}
		_, l := utf8.DecodeRune(src[i:])
		w.buf = append(w.buf, src[i:i+l]...)
		w.col++
		i += l
	}
}

func (w *colWriter) insert(s string, origCol int32) {
	w.anchor(origCol, false)
	w.dirty[w.line] = true
	w.buf = append(w.buf, s...)
	w.col += int32(utf8.RuneCountInString(s))
}

func (r *rewriter) apply() (*Result, error) {
	es := r.sortedEdits()
	w := &colWriter{col: 1}
	res := &Result{}
	pos := 0
	for _, ed := range es {
		_, c := r.pos(pos)
		w.copyOrig(r.src, pos, ed.start, c)
		_, c = r.pos(ed.start)
		repl := r.replacement(es, ed)
		if strings.IndexByte(repl, '\n') >= 0 || bytes.IndexByte(r.src[ed.start:ed.end], '\n') >= 0 {
			return nil, errors.New("internal error: rewrite would move a line")
		}
		w.insert(repl, c)
		pos = ed.end
		if ed.note != nil {
			res.Notes = append(res.Notes, *ed.note)
		}
	}
	_, c := r.pos(pos)
	w.copyOrig(r.src, pos, len(r.src), c)
	for i := range w.lines {
		if !w.dirty[i] {
			w.lines[i] = nil
		}
	}
	res.Src = w.buf
	if res.Src == nil {
		res.Src = []byte{}
	}
	res.lines = w.lines
	if bytes.Count(res.Src, []byte{'\n'}) != bytes.Count(r.src, []byte{'\n'}) {
		return nil, errors.New("internal error: rewrite changed the number of lines")
	}
	return res, nil
}
