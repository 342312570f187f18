package filter

import (
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/inosync/inosync/internal/testutil"
)

func mustCompile(t testing.TB, patterns ...string) *Matcher {
	t.Helper()
	m, err := Compile(patterns)
	if err != nil {
		t.Fatalf("Compile(%q): %v", patterns, err)
	}
	return m
}

// TestMatch checks each rule on single paths; want is Match's result.
func TestMatch(t *testing.T) {
	type c struct {
		rel   string
		isDir bool
		want  bool
	}
	tests := []struct {
		name     string
		patterns []string
		cases    []c
	}{
		{"basename literal", []string{"foo"}, []c{
			{"foo", false, true}, {"foo", true, true}, {"a/foo", false, true},
			{"a/b/foo", true, true}, {"foobar", false, false}, {"xfoo", false, false},
			{"foo/bar", false, false},
		}},
		{"basename star", []string{"*.tmp"}, []c{
			{"b.tmp", false, true}, {"a/b.tmp", false, true}, {".tmp", false, true},
			{"b.tmpx", false, false}, {"b.tmp/x", false, false}, {"a.tmp/b", true, false},
		}},
		{"question mark", []string{"*.sw?"}, []c{
			{"d.swp", false, true}, {"x/.d.swo", false, true}, {"d.sw", false, false},
			{"d.swpp", false, false},
		}},
		{"question mark is one byte", []string{"?"}, []c{
			{"a", false, true}, {"é", false, false}, {"ab", false, false}, {"x/y", false, true},
		}},
		{"class", []string{"[Tt]humbs.db"}, []c{
			{"Thumbs.db", false, true}, {"thumbs.db", false, true}, {"a/Thumbs.db", false, true},
			{"xhumbs.db", false, false}, {"THUMBS.DB", false, false},
		}},
		{"negated class bang", []string{"[!a]"}, []c{
			{"b", false, true}, {"a", false, false}, {"ab", false, false}, {"x/b", false, true},
		}},
		{"negated class caret", []string{"[^a]"}, []c{{"b", false, true}, {"a", false, false}}},
		{"range", []string{"[a-c]x"}, []c{
			{"ax", false, true}, {"bx", false, true}, {"cx", false, true}, {"dx", false, false},
			{"-x", false, false},
		}},
		{"dash literal at ends", []string{"[-a]x", "[b-]y"}, []c{
			{"-x", false, true}, {"ax", false, true}, {"by", false, true}, {"-y", false, true},
			{"cy", false, false},
		}},
		{"close bracket first in class", []string{"[]a]"}, []c{
			{"]", false, true}, {"a", false, true}, {"b", false, false},
		}},
		{"named class", []string{"[[:digit:]]*"}, []c{
			{"1abc", false, true}, {"abc", false, false},
		}},
		{"class never matches slash", []string{"a[!x]b"}, []c{
			{"a/b", false, false}, {"acb", false, true},
		}},
		{"escape in wild pattern", []string{`\*x*`}, []c{
			{"*xyz", false, true}, {"axyz", false, false},
		}},
		{"backslash literal without wildcard", []string{`foo\bar`}, []c{
			{`foo\bar`, false, true}, {"foobar", false, false},
		}},
		{"backslash escapes with wildcard", []string{`foo\bar*`}, []c{
			{"foobarx", false, true}, {`foo\barx`, false, false},
		}},
		{"trailing slash dirs only", []string{"cache/"}, []c{
			{"cache", true, true}, {"cache", false, false}, {"a/cache", true, true},
			{"a/cache", false, false},
		}},
		{"trailing slash wild", []string{"*.d/"}, []c{{"x.d", true, true}, {"x.d", false, false}}},
		{"anchored literal", []string{"/cache"}, []c{
			{"cache", true, true}, {"cache", false, true}, {"a/cache", true, false},
			{"cache/x", false, false},
		}},
		{"anchored dir", []string{"/a/b/"}, []c{
			{"a/b", true, true}, {"a/b", false, false}, {"x/a/b", true, false}, {"a", true, false},
		}},
		{"anchored star stays in one component", []string{"/a*"}, []c{
			{"abc", false, true}, {"a/b", false, false}, {"x/abc", false, false},
		}},
		{"unanchored slash matches trailing components", []string{"a/b"}, []c{
			{"a/b", false, true}, {"x/a/b", false, true}, {"xa/b", false, false},
			{"b", false, false}, {"a/b/c", false, false},
		}},
		{"unanchored slash wild", []string{"*/foo"}, []c{
			{"x/foo", false, true}, {"x/y/foo", false, true}, {"foo", false, false},
		}},
		{"double star prefix also matches at root", []string{"**/foo"}, []c{
			{"foo", false, true}, {"a/foo", false, true}, {"a/b/foo", true, true},
			{"xfoo", false, false},
		}},
		{"double star in middle", []string{"**/build/*.o"}, []c{
			{"build/x.o", false, true}, {"a/build/x.o", false, true}, {"a/b/build/x.o", false, true},
			{"build/a/x.o", false, false}, {"xbuild/x.o", false, false},
		}},
		{"double star infix unanchored", []string{"a/**/x.o"}, []c{
			{"a/b/x.o", false, true}, {"z/a/b/c/x.o", false, true}, {"a/x.o", false, false},
			{"za/b/x.o", false, false},
		}},
		{"double star without slash uses whole path", []string{"b**"}, []c{
			{"b", false, true}, {"bx/y", false, true}, {"x/by/z", false, true}, {"x/y", false, false},
		}},
		{"anchored double star", []string{"/foo/**"}, []c{
			{"foo/a", false, true}, {"foo/a/b", false, true}, {"foo", true, false},
			{"x/foo/a", false, false},
		}},
		{"triple star", []string{"dir/***"}, []c{
			{"dir", true, true}, {"dir", false, false}, {"dir/x", false, true},
			{"dir/x/y", true, true}, {"a/dir", true, true}, {"a/dir/x", false, true},
			{"dirx", true, false},
		}},
		{"first match wins", []string{"+ keep.tmp", "*.tmp"}, []c{
			{"keep.tmp", false, false}, {"a/keep.tmp", false, false}, {"b.tmp", false, true},
		}},
		{"minus prefix", []string{"- foo"}, []c{{"foo", false, true}, {"- foo", false, false}}},
		{"bang clears", []string{"*.tmp", "!", "*.o"}, []c{{"b.tmp", false, false}, {"x.o", false, true}}},
		{"bang with text is literal", []string{"!x"}, []c{{"!x", false, true}, {"x", false, false}}},
		{"plus bang is literal include", []string{"+ !", "*"}, []c{{"!", false, false}, {"a", false, true}}},
		{"empty pattern ignored", []string{""}, []c{{"a", false, false}}},
		{"slash alone matches nothing", []string{"/"}, []c{{"a", true, false}, {"a", false, false}}},
		{"double slash", []string{"a//"}, []c{{"a", true, false}}},
		{"star matches all", []string{"*"}, []c{{"a", false, true}, {"a/b", true, true}}},
		{"trailing space is literal", []string{"foo "}, []c{{"foo", false, false}, {"foo ", false, true}}},
		{"root never", []string{"*", "**"}, []c{{"", true, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, tt.patterns...)
			for _, c := range tt.cases {
				if got := m.Match(c.rel, c.isDir); got != c.want {
					t.Errorf("%q: Match(%q, dir=%v) = %v, want %v", tt.patterns, c.rel, c.isDir, got, c.want)
				}
			}
		})
	}
}

// TestExcluded checks that ancestors are taken into account.
func TestExcluded(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		rel      string
		isDir    bool
		want     bool
	}{
		{"root", []string{"*"}, "", true, false},
		{"self", []string{"*.tmp"}, "a/b.tmp", false, true},
		{"parent dir excluded", []string{".git/"}, "src/.git/objects/ab", false, true},
		{"dir-only rule does not exclude file parent", []string{"x/"}, "x", false, false},
		{"anchored parent", []string{"/cache/"}, "cache/a/b", false, true},
		{"anchored not deeper", []string{"/cache/"}, "a/cache/b", false, false},
		{"deep path kept", []string{".git/", "*.tmp", "/cache/"}, "www/site/assets/img/logo.png", false, false},
		{"include of child cannot rescue", []string{"+ keep", "a/"}, "a/keep", false, true},
		{"include of dir protects it", []string{"+ a/", "*"}, "a", true, false},
		{"include of dir, child still excluded", []string{"+ a/", "*"}, "a/b", false, true},
		{"triple star subtree", []string{"dir/***"}, "dir/x/y", false, true},
		{"triple star file named dir", []string{"dir/***"}, "dir", false, false},
		{"pattern matching a file name on an ancestor", []string{"b.tmp"}, "b.tmp/c", false, true},
		{"nil matcher", nil, "a", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, tt.patterns...)
			if got := m.Excluded(tt.rel, tt.isDir); got != tt.want {
				t.Errorf("%q: Excluded(%q, dir=%v) = %v, want %v", tt.patterns, tt.rel, tt.isDir, got, tt.want)
			}
		})
	}
	var nilM *Matcher
	if nilM.Excluded("a", false) || nilM.Match("a", true) {
		t.Error("nil Matcher excludes something")
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ name, pattern string }{
		{"unclosed bracket", "a["},
		{"unclosed class after star", "*[ab"},
		{"bracket only", "["},
		{"close bracket first is literal", "[]"},
		{"negated unclosed", "[!]"},
		{"unclosed named class", "[[:alpha:]"},
		{"unknown named class", "[[:foo:]]"},
		{"trailing backslash", `*\`},
		{"bare minus prefix", "- "},
		{"bare plus prefix", "+ "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]string{"ok", tt.pattern})
			if err == nil {
				t.Fatalf("Compile(%q) succeeded", tt.pattern)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.pattern)) {
				t.Errorf("error %q does not name the pattern %q", err, tt.pattern)
			}
		})
	}
	for _, ok := range []string{`foo\`, `\[x]`, "[[]x]", "[a-]", "[[:x]", "!", ""} {
		if _, err := Compile([]string{ok}); err != nil {
			t.Errorf("Compile(%q): %v", ok, err)
		}
	}
}

func TestExcludedAllocs(t *testing.T) {
	m := mustCompile(t, benchPatterns()...)
	n := testing.AllocsPerRun(100, func() {
		m.Excluded("www/site/assets/img/logo.png", false)
		m.Excluded("a/b/build/x.o", false)
		m.Match("dir/x", true)
	})
	if n != 0 {
		t.Errorf("Excluded allocates %v times per run", n)
	}
}

// ---- differential tests against the real rsync ----

const rsyncPath = "/usr/bin/rsync"

// rsyncKept copies src into the empty directory dst with one --exclude per
// pattern and returns what arrived: relative paths, directories with a
// trailing "/". It is safe to call from several goroutines.
func rsyncKept(src, dst string, patterns []string) (map[string]bool, error) {
	args := []string{"-r"}
	for _, p := range patterns {
		args = append(args, "--exclude="+p)
	}
	args = append(args, src+"/", dst+"/")
	cmd := exec.Command(rsyncPath, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("rsync %q: %v\n%s", args, err, out)
	}
	kept := map[string]bool{}
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dst {
			return err
		}
		rel, err := filepath.Rel(dst, p)
		if d.IsDir() {
			rel += "/"
		}
		kept[filepath.ToSlash(rel)] = true
		return err
	})
	return kept, err
}

// rsyncAll runs rsyncKept for each pattern set, several at a time (each
// run mostly waits on rsync's processes talking to each other).
func rsyncAll(t *testing.T, src []string, sets [][]string) []map[string]bool {
	t.Helper()
	type result struct {
		kept map[string]bool
		err  error
	}
	res := make([]result, len(sets))
	sem := make(chan struct{}, 8)
	done := make(chan struct{})
	for i := range sets {
		dst := t.TempDir()
		go func() {
			sem <- struct{}{}
			res[i].kept, res[i].err = rsyncKept(src[i], dst, sets[i])
			<-sem
			done <- struct{}{}
		}()
	}
	for range sets {
		<-done
	}
	out := make([]map[string]bool, len(sets))
	for i, r := range res {
		if r.err != nil {
			t.Fatal(r.err)
		}
		out[i] = r.kept
	}
	return out
}

// walk lists root like rsyncKept; with a non-nil m it keeps a path iff
// !m.Excluded(rel, isDir), and cross-checks that against a top-down walk
// that uses Match and prunes excluded directories.
func walk(t *testing.T, root string, m *Matcher) map[string]bool {
	t.Helper()
	all, pruned := map[string]bool{}, map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		key := rel
		if d.IsDir() {
			key += "/"
		}
		if m == nil || !m.Excluded(rel, d.IsDir()) {
			all[key] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m == nil {
		return all
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if m.Match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			rel += "/"
		}
		pruned[rel] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(all, pruned); d != "" {
		t.Errorf("%v: Excluded and a Match-pruned walk disagree:\n%s", m, d)
	}
	return all
}

// diff describes the differences between want and got ("" if none).
func diff(want, got map[string]bool) string {
	var lines []string
	for k := range want {
		if !got[k] {
			lines = append(lines, "  only rsync kept:   "+k)
		}
	}
	for k := range got {
		if !want[k] {
			lines = append(lines, "  only matcher kept: "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// treeNames is the alphabet of file and directory names.
func treeNames() []string {
	return []string{
		"a", "b", "ab", "b.tmp", "c~", ".git", "x.o", "build", "cache",
		"Thumbs.db", "d.swp", "a-b", ".#x", "dir",
	}
}

// patternParts are the wildcard components random patterns use besides
// the tree names.
func patternParts() []string {
	return []string{
		"*", "**", "?", "[ab]", "[!a]", "*.tmp", "*.o", "b*", "?.o", "[ab]*",
		"*~", "x.?", "*[!a]", ".*", "[Tt]humbs.db", "**.o", "a*b", "*a*",
	}
}

func makeTree(t *testing.T, rng *rand.Rand, dir string, depth int) {
	t.Helper()
	names := treeNames()
	n := 1 + rng.Intn(5)
	for _, i := range rng.Perm(len(names))[:n] {
		p := filepath.Join(dir, names[i])
		if depth < 3 && rng.Intn(2) == 0 {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			makeTree(t, rng, p, depth+1)
		} else if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// randPattern returns an --exclude pattern: an optional "+ "/"- " prefix,
// an optional anchoring "/", one to three components (names from the tree
// or wildcards), then optionally "/***" or a trailing "/"; or "!".
func randPattern(rng *rand.Rand) string {
	if rng.Intn(40) == 0 {
		return "!"
	}
	names, parts := treeNames(), patternParts()
	var b strings.Builder
	switch rng.Intn(20) {
	case 0:
		b.WriteString("+ ")
	case 1:
		b.WriteString("- ")
	}
	if rng.Intn(4) == 0 {
		b.WriteByte('/')
	}
	n := []int{1, 1, 1, 2, 2, 3}[rng.Intn(6)]
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('/')
		}
		if rng.Intn(2) == 0 {
			b.WriteString(names[rng.Intn(len(names))])
		} else {
			b.WriteString(parts[rng.Intn(len(parts))])
		}
	}
	switch rng.Intn(7) {
	case 0:
		b.WriteString("/***")
	case 1, 2:
		b.WriteByte('/')
	}
	return b.String()
}

// TestDifferentialRsync compares the matcher with rsync on random trees
// and random pattern sets, one tree and several pattern sets per seed.
func TestDifferentialRsync(t *testing.T) {
	testutil.NeedRsync(t)
	seeds, setsPerTree := 60, 4
	if testing.Short() {
		seeds = 20
	}
	type job struct {
		seed     int64
		src      string
		patterns []string
	}
	var jobs []job
	for seed := int64(1); seed <= int64(seeds); seed++ {
		rng := rand.New(rand.NewSource(seed))
		src := filepath.Join(t.TempDir(), "src")
		if err := os.Mkdir(src, 0o755); err != nil {
			t.Fatal(err)
		}
		makeTree(t, rng, src, 0)
		for k := 0; k < setsPerTree; k++ {
			patterns := make([]string, 1+rng.Intn(4))
			for i := range patterns {
				patterns[i] = randPattern(rng)
			}
			jobs = append(jobs, job{seed, src, patterns})
		}
	}
	srcs, sets := make([]string, len(jobs)), make([][]string, len(jobs))
	for i, j := range jobs {
		srcs[i], sets[i] = j.src, j.patterns
	}
	wants := rsyncAll(t, srcs, sets)
	effective := 0 // pattern sets that made rsync leave something out
	for i, j := range jobs {
		if len(wants[i]) < len(walk(t, j.src, nil)) {
			effective++
		}
		m, err := Compile(j.patterns)
		if err != nil {
			t.Fatalf("seed %d: Compile(%q): %v", j.seed, j.patterns, err)
		}
		if d := diff(wants[i], walk(t, j.src, m)); d != "" {
			t.Errorf("seed %d, patterns %q:\n%s", j.seed, j.patterns, d)
		}
	}
	t.Logf("%d seeds, %d pattern sets, %d of them excluded something", seeds, len(jobs), effective)
}

// TestRsyncEdgeCases compares hand-picked corner cases with rsync.
func TestRsyncEdgeCases(t *testing.T) {
	testutil.NeedRsync(t)
	src := filepath.Join(t.TempDir(), "src")
	for _, p := range []string{
		"foo", `foo\bar`, "foobar", "é", "[x]", "x", "a b", "-", "!", "!x",
		"dir/in", "sub/dir", "sub/foo", "deep/a/b/c/x.o", "deep/x.o", "b.tmp", "keep.tmp",
		"]", "1abc", "*star", "foo ", "d.d/e",
	} {
		p = filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sets := [][]string{
		{`foo\bar`}, {`foo\bar*`}, {`foo\\bar*`}, {"?"}, {"[[:alpha:]]"}, {"[]x]"},
		{`\[x]`}, {"[[]x]"}, {"dir/***"}, {"dir/***/"}, {"**/foo"}, {"*/foo"}, {"/"},
		{"*.tmp", "!"}, {"+ keep.tmp", "*.tmp"}, {"- foo"}, {"+ !", "?"}, {"!x"},
		{"deep/**/x.o"}, {"deep/**/c"}, {"/deep/**"}, {"**"}, {"***"}, {"a//"}, {"a b"},
		{"[a-]*"}, {"[^a]"}, {"foo/"}, {"/sub/"}, {"sub/*"}, {"b/c"}, {"a/**"},
		{"**/b/**"}, {"[[:digit:]]*"}, {`\*star`}, {"foo "}, {"d.d/***"}, {"*/***"},
		{"**/"}, {"/*/"}, {"[!x]"}, {"x/"}, {"c/x.o"}, {"a/b/c/x.o"}, {"/a/b/c"},
		// filters: an include rule ahead of a catch-all exclude.
		{"+ /dir/***", "- *"}, {"+ /deep/***", "- *"}, {"+ dir/***", "- *"}, {"+ /a/b/***", "+ /a/", "- *"},
		{"+ /sub/", "- /sub/*"}, {"+ */", "+ *.o", "- *"}, {"- /dir/***", "+ *"},
	}
	// Patterns Compile rejects are accepted by rsync, which then excludes
	// nothing with them: check that claim too.
	bad := []string{"a[", "*[ab", "[[:foo:]]*", `*\`}
	all := walk(t, src, nil)
	srcs := make([]string, len(sets)+len(bad))
	for i := range srcs {
		srcs[i] = src
	}
	jobs := append([][]string(nil), sets...)
	for _, p := range bad {
		jobs = append(jobs, []string{p})
	}
	wants := rsyncAll(t, srcs, jobs)
	for i, patterns := range sets {
		t.Run(strings.Join(patterns, ","), func(t *testing.T) {
			m := mustCompile(t, patterns...)
			if d := diff(wants[i], walk(t, src, m)); d != "" {
				t.Errorf("patterns %q:\n%s", patterns, d)
			}
		})
	}
	for i, p := range bad {
		t.Run("invalid "+p, func(t *testing.T) {
			if _, err := Compile([]string{p}); err == nil {
				t.Errorf("Compile(%q) succeeded", p)
			}
			if d := diff(wants[len(sets)+i], all); d != "" {
				t.Errorf("rsync excluded something with %q:\n%s", p, d)
			}
		})
	}
}

// benchPatterns are typical inosync excludes.
func benchPatterns() []string {
	return []string{
		".git/", "*.tmp", "/cache/", "node_modules/", "*.sw?", "**/build/*.o",
		"/a/b/", "*~", ".#*", "[Tt]humbs.db",
	}
}

func BenchmarkExcluded(b *testing.B) {
	m := mustCompile(b, benchPatterns()...)
	b.ReportAllocs()
	for b.Loop() {
		if m.Excluded("www/site/assets/img/logo.png", false) {
			b.Fatal("excluded")
		}
	}
}
