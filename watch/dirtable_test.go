package watch

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestCmpRelPutsSubtreeFirst(t *testing.T) {
	sorted := []string{"", "a", "a/z", "a/z/y", "a!b", "a-b", "a-b/c", "a.b", "ab", "b"}
	got := slices.Clone(sorted)
	rand.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	slices.SortFunc(got, cmpRel)
	if !slices.Equal(got, sorted) {
		t.Fatalf("sorted %q, want %q", got, sorted)
	}
}

// The table against a plain set, over random paths made of names that
// sort around '/' ("a!", "a-", "a.", "a0" and deeper), random adds and
// random subtree removals.
func TestDirTableAgainstSet(t *testing.T) {
	names := []string{"a", "a!", "a-", "a.", "a0", "b", "\xff"}
	rng := rand.New(rand.NewPCG(1, 2))
	randPath := func() string {
		parts := make([]string, 1+rng.IntN(4))
		for i := range parts {
			parts[i] = names[rng.IntN(len(names))]
		}
		return strings.Join(parts, "/")
	}
	tab := newDirTable()
	set := map[string]bool{}
	for step := range 20000 {
		p := randPath()
		switch rng.IntN(5) {
		case 0, 1, 2:
			if got, want := tab.add(p), !set[p]; got != want {
				t.Fatalf("step %d: add(%q) = %v, want %v", step, p, got, want)
			}
			set[p] = true
		case 3:
			if got := tab.has(p); got != set[p] {
				t.Fatalf("step %d: has(%q) = %v, want %v", step, p, got, set[p])
			}
		case 4:
			if rng.IntN(50) == 0 {
				p = ""
			}
			var gone, want []string
			tab.removeTree(p, func(r string) { gone = append(gone, r) })
			if set[p] {
				for q := range set {
					if q == p || p == "" || strings.HasPrefix(q, p+"/") {
						want = append(want, q)
						delete(set, q)
					}
				}
			}
			sort.Strings(gone)
			sort.Strings(want)
			if !slices.Equal(gone, want) {
				t.Fatalf("step %d: removeTree(%q) dropped %q, want %q", step, p, gone, want)
			}
		}
		if tab.len() != len(set) {
			t.Fatalf("step %d: len %d, want %d", step, tab.len(), len(set))
		}
	}
	all := tab.all()
	if !slices.IsSortedFunc(all, cmpRel) {
		t.Fatal("table out of order")
	}
	for _, c := range tab.chunks {
		if len(c) == 0 || len(c) > tableChunk {
			t.Fatalf("chunk of %d paths", len(c))
		}
	}
}

// A walk in name order only appends: every chunk but the last is full.
func TestDirTableWalkOrderAppends(t *testing.T) {
	tab := newDirTable()
	var walk func(rel string, depth int)
	walk = func(rel string, depth int) {
		tab.add(rel)
		if depth == 3 {
			return
		}
		for _, n := range []string{"a", "a-b", "a.b", "b", "c"} {
			sub := n
			if rel != "" {
				sub = rel + "/" + n
			}
			walk(sub, depth+1)
		}
	}
	walk("", 0)
	for i, c := range tab.chunks[:len(tab.chunks)-1] {
		if len(c) != tableChunk {
			t.Fatalf("chunk %d holds %d paths: the walk inserted in the middle", i, len(c))
		}
	}
	if want := 1 + 5 + 25 + 125; tab.len() != want {
		t.Fatalf("len %d, want %d", tab.len(), want)
	}
}

func TestListerSubdirs(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"b", "a-b", "a", "sp ace", "new\nline", "\xff"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	// Enough entries to need more than one read into the buffer.
	for i := range 2000 {
		if err := os.WriteFile(filepath.Join(root, strings.Repeat("f", 100)+string(rune('A'+i%26))+strings.Repeat("x", i%7)+"-"+strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var l lister
	got, err := l.appendSubdirs(nil, root)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range []string{"\xff", "a", "a-b", "b", "new\nline", "sp ace"} {
		want = append(want, root+"/"+d)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("subdirs = %q, want %q", got, want)
	}
	if _, err := l.appendSubdirs(nil, filepath.Join(root, "missing")); !vanished(err) {
		t.Fatalf("missing dir: err %v, want one that vanished() knows", err)
	}
	if _, err := l.appendSubdirs(nil, filepath.Join(root, "file")); !vanished(err) {
		t.Fatalf("a file: err %v, want one that vanished() knows", err)
	}
}

func TestPathArenaJoin(t *testing.T) {
	var a pathArena
	var got []string
	for i := range 5000 {
		got = append(got, a.join("/srv/www", "/", []byte("d"+strconv.Itoa(i))))
	}
	long := strings.Repeat("x", arenaBlock)
	big := a.join("/srv", "/", []byte(long))
	for i, s := range got {
		if want := "/srv/www/d" + strconv.Itoa(i); s != want {
			t.Fatalf("join %d = %q, want %q", i, s, want)
		}
	}
	if big != "/srv/"+long {
		t.Fatal("a path longer than a block came back wrong")
	}
}

func TestListerRejectsNUL(t *testing.T) {
	var l lister
	if _, err := l.appendSubdirs(nil, "/tmp\x00/x"); err == nil {
		t.Fatal("a path with a NUL byte was opened")
	}
}
