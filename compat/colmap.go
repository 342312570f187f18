package compat

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"unicode/utf8"
)

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

// replacement is the text edit ed puts in place of its range: its repl,
// followed, when ed duplicates a chain's middle operand, by that operand
// with the edits inside it applied.
func (r *rewriter) replacement(es []*edit, ed *edit) string {
	if ed.dup {
		return ed.repl + r.render(es, ed.ds, ed.de)
	}
	return ed.repl
}

// colWriter writes the rewritten source and, line by line, the anchors that
// map its columns back to the original.
type colWriter struct {
	buf   []byte
	line  int   // 0-based output line
	col   int32 // 1-based rune column of the next output rune
	lines [][]anchor
	dirty []bool // the line has inserted text (the others need no anchors)
}

// anchor starts an anchor at the current output column, mapping it to
// original column orig.
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

// insert writes s, an edit's replacement, all of whose columns map to
// original column origCol.
func (w *colWriter) insert(s string, origCol int32) {
	w.anchor(origCol, false)
	w.dirty[w.line] = true
	w.buf = append(w.buf, s...)
	w.col += int32(utf8.RuneCountInString(s))
}

// apply writes the source with the recorded edits applied, and its column
// maps, as a Result. An error means a rule is wrong: the result would not
// keep every line where it was.
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
