package compat

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"
)

// edit replaces src[start:end] by repl; start == end makes it an insertion.
type edit struct {
	start, end int
	repl       string
	chain      bool // inserted by a chained-comparison rewrite
	dup        bool // repl + rendering of src[ds:de]
	ds, de     int
	seq        int   // creation order, which sortedEdits keeps for ties
	note       *Note // nil for all but the first edit of a rewrite
}

// lineStarts returns the offset of the first byte of each line of src.
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// pos returns the 1-based line and rune column of byte offset off of the
// source.
func (r *rewriter) pos(off int) (int32, int32) {
	l := sort.SearchInts(r.lineStarts, off+1) - 1
	return int32(l + 1), int32(utf8.RuneCount(r.src[r.lineStarts[l]:off]) + 1)
}

// add records an edit that replaces src[start:end] by repl and returns it;
// with a non-empty what, the edit carries a Note.
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
