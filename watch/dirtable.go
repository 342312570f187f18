package watch

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// tableChunk is the most paths one chunk of a dirTable holds: an insertion
// moves at most this many strings.
const tableChunk = 256

// dirTable is the set of watched directories, by path relative to the
// root. It is a sorted list of paths kept in chunks: a directory's
// subtree is the run of paths that follows it (see cmpRel), so it is
// found and dropped in time proportional to its size, and a directory
// costs one string header (16 bytes). The paths' bytes are shared with
// the paths fsnotify keeps (Watcher.watchTree, relOfFull), so they cost
// nothing more. A walk that visits subdirectories in name order, as
// watchTree does, only ever appends. Chunks emptied by removals are
// dropped; others are not merged, so a table that shrinks keeps some
// half-empty chunks.
type dirTable struct {
	chunks [][]string // each sorted and non-empty; together sorted
	n      int
}

func newDirTable() *dirTable { return &dirTable{} }

// cmpRel orders relative paths so that a directory is followed at once by
// everything below it: as bytes, except that '/' comes before every other
// byte ("a" < "a/z" < "a-b"; plain byte order would put "a-b" between
// "a" and "a/z").
func cmpRel(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		switch {
		case ca == cb:
			continue
		case ca == '/':
			return -1
		case cb == '/':
			return 1
		case ca < cb:
			return -1
		default:
			return 1
		}
	}
	return cmp.Compare(len(a), len(b))
}

// locate returns where rel is, or would go: chunk ci, index i.
func (t *dirTable) locate(rel string) (ci, i int, found bool) {
	ci = sort.Search(len(t.chunks), func(k int) bool {
		c := t.chunks[k]
		return cmpRel(c[len(c)-1], rel) >= 0
	})
	if ci == len(t.chunks) {
		return ci, 0, false
	}
	i, found = slices.BinarySearchFunc(t.chunks[ci], rel, cmpRel)
	return ci, i, found
}

// len returns the number of directories.
func (t *dirTable) len() int { return t.n }

func (t *dirTable) has(rel string) bool {
	_, _, ok := t.locate(rel)
	return ok
}

// add records rel; it returns false if rel was there already.
func (t *dirTable) add(rel string) bool {
	ci, i, found := t.locate(rel)
	if found {
		return false
	}
	if ci == len(t.chunks) { // after every path: at the end of the last chunk
		if ci == 0 || len(t.chunks[ci-1]) == tableChunk {
			t.chunks = append(t.chunks, make([]string, 0, tableChunk))
		} else {
			ci--
		}
		i = len(t.chunks[ci])
	}
	c := t.chunks[ci]
	if len(c) == tableChunk { // full: split it in two
		half := tableChunk / 2
		right := make([]string, tableChunk-half, tableChunk)
		copy(right, c[half:])
		clear(c[half:])
		c = c[:half]
		t.chunks[ci] = c
		t.chunks = slices.Insert(t.chunks, ci+1, right)
		if i > half {
			ci, i, c = ci+1, i-half, right
		}
	}
	t.chunks[ci] = slices.Insert(c, i, rel)
	t.n++
	return true
}

// removeTree forgets rel and everything below it, calling fn for each
// (rel first).
func (t *dirTable) removeTree(rel string, fn func(rel string)) {
	ci, i, found := t.locate(rel)
	if !found {
		return
	}
	under := func(p string) bool {
		return p == rel || rel == "" || (strings.HasPrefix(p, rel) && p[len(rel)] == '/')
	}
	// The subtree runs from (ci, i) to (cj, j), exclusive.
	cj, j := ci, i
	for cj < len(t.chunks) {
		c := t.chunks[cj]
		for j < len(c) && under(c[j]) {
			fn(c[j])
			t.n--
			j++
		}
		if j < len(c) {
			break
		}
		cj, j = cj+1, 0
	}
	// Cut it out: the tail of chunk ci, whole chunks, the head of chunk cj.
	if ci == cj {
		t.chunks[ci] = slices.Delete(t.chunks[ci], i, j)
	} else {
		t.chunks[ci] = slices.Delete(t.chunks[ci], i, len(t.chunks[ci]))
		if cj < len(t.chunks) {
			t.chunks[cj] = slices.Delete(t.chunks[cj], 0, j)
		}
		t.chunks = slices.Delete(t.chunks, ci+1, cj)
	}
	// Only chunk ci and the one after it (what was cj) can be empty now.
	for k := min(ci+1, len(t.chunks)-1); k >= ci; k-- {
		if len(t.chunks[k]) == 0 {
			t.chunks = slices.Delete(t.chunks, k, k+1)
		}
	}
}

// all returns every path, in table order (for tests).
func (t *dirTable) all() []string {
	out := make([]string, 0, t.n)
	for _, c := range t.chunks {
		out = append(out, c...)
	}
	return out
}
