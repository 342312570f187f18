package compat

import "fmt"

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

// Rewrite rewrites Python 2/3 constructs that Starlark lacks, as the
// package documentation lists them. filename is only for error messages.
func Rewrite(filename string, src []byte) (*Result, error) {
	r := &rewriter{src: src}
	r.toks, r.indents = lex(src)
	r.statements()
	r.lineStarts = lineStarts(src)

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

// rewriter is the state of one Rewrite: the source, its tokens and
// statements, and the edits the rules record.
type rewriter struct {
	src        []byte
	toks       []token
	indents    []int // indentation width of each logical line
	stmts      []stmt
	lineStarts []int // offset of the first byte of each line
	edits      []*edit
}
