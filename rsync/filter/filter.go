// Package filter decides which paths rsync's --exclude patterns leave out.
//
// It reimplements the part of rsync's filter machinery (exclude.c and
// wildmatch.c of rsync 3.x) that an old-style --exclude=PATTERN option
// reaches, so that inosync can skip a path — not add an inotify watch, not
// queue a change — exactly when the rsync it runs with the same
// --exclude options would not transfer it:
//
//   - A leading "/" anchors the pattern at the transfer root; otherwise it
//     matches at the end of the path.
//   - A trailing "/" restricts the pattern to directories.
//   - A pattern that contains no "/" (apart from a trailing one) and no
//     "**" is matched against the final path component only; any other
//     pattern is matched against the whole path relative to the root:
//     unanchored patterns with a "/" but no "**" against the last N
//     components (N = number of slashes + 1), unanchored patterns with a
//     "**" not at the start at every component boundary, and patterns that
//     start with "**" against "/"+path.
//   - "*" matches any run of non-"/" bytes, "**" any run of bytes,
//     "?" one non-"/" byte, "[...]" one non-"/" byte from a class (ranges,
//     "!" or "^" negation, [:alpha:]-style names in the C locale); a
//     backslash escapes the next byte, but only in patterns that contain a
//     wildcard ("*", "?" or "["): "foo\bar" is matched literally.
//   - A trailing "***" (as in "dir/***") also matches the directory itself.
//   - As with --exclude, a "- " prefix is dropped and a "+ " prefix turns
//     the pattern into an include rule; the first rule that matches a name
//     decides, and a pattern of exactly "!" clears the rules before it.
//     An empty pattern is ignored.
//   - An excluded directory is never descended into, so everything below it
//     is excluded too (see Matcher.Excluded).
//
// Matching works on bytes, as rsync does: "?" does not match a multibyte
// UTF-8 character such as "é".
package filter

import (
	"fmt"
	"strings"
)

// Matcher holds compiled patterns. It is immutable after Compile and thus
// safe for concurrent use. A nil or empty Matcher excludes nothing.
type Matcher struct {
	rules []rule
}

// Match modes: which part of the path a wildcard pattern is matched
// against (rsync's slash_handling in rule_matches).
const (
	modeBase     = iota // final component only, from its start
	modeStart           // whole path (or "/"+path), from its start
	modeTrailing        // last rule.n components
	modeAnywhere        // whole path, from its start or after any "/"
)

// rule is one compiled pattern.
type rule struct {
	src      string // pattern as given (for diagnostics)
	include  bool   // "+ " prefix: a match keeps the path in
	dirOnly  bool   // trailing "/"
	wild     bool   // contains '*', '?' or '['
	mode     uint8  // one of mode*
	pre      bool   // match against "/"+path (pattern starts with "**")
	post     bool   // directories get a "/" appended (pattern ends "***")
	anchored bool   // leading "/"
	n        int    // modeTrailing: number of components
	slashes  int    // '/' count in the pattern (rsync's slash_cnt)

	lit string // literal pattern (non-wild), without the anchoring "/"

	// Wildcard pattern, compiled.
	toks       []tok
	sets       []byteSet
	head, tail string // literal bytes every match starts / ends with
	minLen     int    // minimum text length a match needs
}

// Token kinds.
const (
	tLit   = iota // literal byte
	tAny          // '?'
	tClass        // '[...]'
	tStar         // '*'
	tStar2        // '**' (or more stars)
)

// tok is one element of a compiled wildcard pattern.
type tok struct {
	kind uint8
	b    byte   // tLit: the byte
	set  uint16 // tClass: index into rule.sets
}

// byteSet is a 256-bit set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}

// Compile compiles --exclude patterns, in rsync's order (the first rule
// that matches a name decides). It reports an error naming the pattern for
// a "- " or "+ " prefix with nothing after it (rsync refuses those too) and
// for wildcard patterns rsync accepts but that can never match anything: an
// unclosed '[', an unknown "[:name:]" class, or a trailing backslash.
func Compile(patterns []string) (*Matcher, error) {
	m := &Matcher{}
	for _, p := range patterns {
		src := p
		include := false
		switch {
		case p == "":
			continue // rsync ignores an empty rule
		case p == "!":
			m.rules = m.rules[:0] // list-clearing rule
			continue
		case strings.HasPrefix(p, "- "):
			p = p[2:]
		case strings.HasPrefix(p, "+ "):
			p = p[2:]
			include = true
		}
		if p == "" {
			return nil, fmt.Errorf("filter: pattern %q: unexpected end of filter rule", src)
		}
		r, err := compileRule(p)
		if err != nil {
			return nil, fmt.Errorf("filter: pattern %q: %v", src, err)
		}
		r.src = src
		r.include = include
		m.rules = append(m.rules, r)
	}
	return m, nil
}

// compileRule compiles one pattern, its rule prefix already removed; the
// flag logic follows rsync's add_rule and rule_matches.
func compileRule(p string) (rule, error) {
	var r rule
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
		r.dirOnly = true
	}
	r.slashes = strings.Count(p, "/")
	wild2 := false
	if strings.ContainsAny(p, "*?[") {
		r.wild = true
		if i := strings.Index(p, "**"); i >= 0 {
			wild2 = true
			r.pre = i == 0
			r.post = strings.HasSuffix(p, "***")
		}
	}
	if p[0] == '/' {
		r.anchored = true
		p = p[1:]
	}
	switch {
	case r.slashes == 0 && !wild2:
		r.mode = modeBase
	case !r.anchored && !wild2:
		r.mode = modeTrailing
		r.n = r.slashes + 1
	case !r.anchored && !r.pre:
		r.mode = modeAnywhere
	default:
		r.mode = modeStart
	}
	if !r.wild {
		r.lit = p
		return r, nil
	}
	if err := r.compileWild(p); err != nil {
		return rule{}, err
	}
	return r, nil
}

// compileWild tokenizes a wildcard pattern the way rsync's dowild reads it.
func (r *rule) compileWild(p string) error {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			i++
			if i == len(p) {
				return fmt.Errorf("trailing backslash")
			}
			r.toks = append(r.toks, tok{kind: tLit, b: p[i]})
			r.minLen++
		case '?':
			r.toks = append(r.toks, tok{kind: tAny})
			r.minLen++
		case '*':
			k := uint8(tStar)
			for i+1 < len(p) && p[i+1] == '*' {
				i++
				k = tStar2
			}
			r.toks = append(r.toks, tok{kind: k})
		case '[':
			set, end, err := parseClass(p, i)
			if err != nil {
				return err
			}
			if len(r.sets) == 1<<16 {
				return fmt.Errorf("too many character classes")
			}
			r.toks = append(r.toks, tok{kind: tClass, set: uint16(len(r.sets))})
			r.sets = append(r.sets, set)
			r.minLen++
			i = end
		default:
			r.toks = append(r.toks, tok{kind: tLit, b: c})
			r.minLen++
		}
	}
	// Literal head and tail, for cheap rejection before dowild.
	h := 0
	for h < len(r.toks) && r.toks[h].kind == tLit {
		h++
	}
	t := len(r.toks)
	for t > h && r.toks[t-1].kind == tLit {
		t--
	}
	r.head = litString(r.toks[:h])
	r.tail = litString(r.toks[t:])
	return nil
}

func litString(ts []tok) string {
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = t.b
	}
	return string(b)
}

// parseClass parses the class starting at p[i] == '[' exactly as rsync's
// dowild does, returning the set of bytes it matches ('/' never does) and
// the index of its closing ']'.
func parseClass(p string, i int) (byteSet, int, error) {
	var set byteSet
	unclosed := fmt.Errorf("unclosed '[' at offset %d", i)
	at := func(j int) byte { // 0 past the end, like C's NUL
		if j < len(p) {
			return p[j]
		}
		return 0
	}
	i++
	pc := at(i)
	if pc == '^' {
		pc = '!'
	}
	negate := pc == '!'
	if negate {
		i++
		pc = at(i)
	}
	var prev byte
	for {
		switch {
		case pc == 0:
			return set, 0, unclosed
		case pc == '\\':
			i++
			if pc = at(i); pc == 0 {
				return set, 0, unclosed
			}
			set.add(pc)
		case pc == '-' && prev != 0 && at(i+1) != 0 && at(i+1) != ']':
			i++
			pc = at(i)
			if pc == '\\' {
				i++
				if pc = at(i); pc == 0 {
					return set, 0, unclosed
				}
			}
			if prev <= pc {
				set.addRange(prev, pc)
			}
			pc = 0
		case pc == '[' && at(i+1) == ':':
			s := i + 2
			j := s
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j == len(p) {
				return set, 0, unclosed
			}
			if j-s-1 < 0 || p[j-1] != ':' {
				// No ":]": an ordinary '['.
				set.add('[')
				break
			}
			if !addNamedClass(&set, p[s:j-1]) {
				return set, 0, fmt.Errorf("unknown character class [:%s:]", p[s:j-1])
			}
			i = j
			pc = 0
		default:
			set.add(pc)
		}
		prev = pc
		i++
		if pc = at(i); pc == ']' {
			break
		}
	}
	if negate {
		for k := range set {
			set[k] = ^set[k]
		}
	}
	set[0] &^= 1 << '/'
	set[0] &^= 1 // NUL never occurs in a name
	return set, i, nil
}

// addNamedClass adds a POSIX class, in the C locale, to set.
func addNamedClass(set *byteSet, name string) bool {
	var f func(c byte) bool
	isAlpha := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isGraph := func(c byte) bool { return c > ' ' && c < 0x7f }
	switch name {
	case "alnum":
		f = func(c byte) bool { return isAlpha(c) || isDigit(c) }
	case "alpha":
		f = isAlpha
	case "blank":
		f = func(c byte) bool { return c == ' ' || c == '\t' }
	case "cntrl":
		f = func(c byte) bool { return c < ' ' || c == 0x7f }
	case "digit":
		f = isDigit
	case "graph":
		f = isGraph
	case "lower":
		f = func(c byte) bool { return c >= 'a' && c <= 'z' }
	case "print":
		f = func(c byte) bool { return c >= ' ' && c < 0x7f }
	case "punct":
		f = func(c byte) bool { return isGraph(c) && !isAlpha(c) && !isDigit(c) }
	case "space":
		f = func(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }
	case "upper":
		f = func(c byte) bool { return c >= 'A' && c <= 'Z' }
	case "xdigit":
		f = func(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
	default:
		return false
	}
	for c := 0; c < 256; c++ {
		if f(byte(c)) {
			set.add(byte(c))
		}
	}
	return true
}

// Excluded reports whether rel is left out of the transfer, either itself
// or because one of its ancestor directories is (rsync never descends into
// an excluded directory). rel is relative to the tree root, '/'-separated,
// without a leading '/'; "" is the root, which is never excluded. isDir
// tells whether rel itself is a directory. Excluded does not allocate.
func (m *Matcher) Excluded(rel string, isDir bool) bool {
	if m == nil || len(m.rules) == 0 || rel == "" {
		return false
	}
	base := 0 // start of the current component
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' {
			if m.match(rel[:i], rel[base:i], true) {
				return true
			}
			base = i + 1
		}
	}
	return m.match(rel, rel[base:], isDir)
}

// Match reports whether rel itself is excluded by the rules, ignoring its
// ancestors: use it when the ancestors are known to be transferred (for
// example while walking a tree top-down and skipping excluded directories).
// rel is as for Excluded.
func (m *Matcher) Match(rel string, isDir bool) bool {
	if m == nil || len(m.rules) == 0 || rel == "" {
		return false
	}
	return m.match(rel, rel[strings.LastIndexByte(rel, '/')+1:], isDir)
}

// match applies the rules in order to path (whose final component is base);
// the first rule that matches decides.
func (m *Matcher) match(path, base string, isDir bool) bool {
	for i := range m.rules {
		r := &m.rules[i]
		if r.matches(path, base, isDir) {
			return !r.include
		}
	}
	return false
}

// matches is rsync's rule_matches for one rule and a non-empty path.
func (r *rule) matches(path, base string, isDir bool) bool {
	if r.dirOnly && !isDir {
		return false
	}
	if !r.wild {
		switch {
		case r.mode == modeBase:
			return base == r.lit
		case r.anchored:
			return path == r.lit
		default: // r.lit is a suffix of path starting at a component
			l := len(path) - len(r.lit)
			return l >= 0 && path[l:] == r.lit && (l == 0 || path[l-1] == '/')
		}
	}
	t := text{s: path, pre: r.pre, post: r.post && isDir}
	if r.mode == modeBase {
		t.s = base
	}
	t.n = len(t.s)
	if t.pre {
		t.n++
	}
	if t.post {
		t.n++
	}
	// Every match ends with r.tail (when post applies the pattern ends
	// with "***", so r.tail is empty).
	if !t.hasSuffix(r.tail) {
		return false
	}
	start := 0
	switch r.mode {
	case modeTrailing:
		// Last r.n components (rsync's trailing_N_elements).
		count := r.n
		start = -1
		for j := len(path) - 1; j >= 0; j-- {
			if path[j] == '/' {
				if count--; count == 0 {
					start = j + 1
					break
				}
			}
		}
		if start < 0 {
			if count != 1 {
				return false
			}
			start = 0
		}
		fallthrough
	case modeBase, modeStart:
		if t.n-start < r.minLen || !t.hasPrefixAt(start, r.head) {
			return false
		}
		return dowild(r, r.toks, &t, start) == wTrue
	}
	// modeAnywhere: at the start, then after every '/'.
	if t.n < r.minLen {
		return false
	}
	res := dowild(r, r.toks, &t, 0)
	if res == wTrue {
		return true
	}
	if res == wAbortAll {
		return false
	}
	for j := 0; j < t.n; j++ {
		if t.at(j) != '/' {
			continue
		}
		if t.n-(j+1) < r.minLen {
			return false
		}
		res = dowild(r, r.toks, &t, j+1)
		if res != wFalse && res != wAbortToStarStar {
			return res == wTrue
		}
	}
	return false
}

// text is the string rsync matches a pattern against: s, optionally
// preceded by "/" (pre) and followed by "/" (post); n is its length.
type text struct {
	s         string
	pre, post bool
	n         int
}

func (t *text) at(i int) byte {
	if t.pre {
		if i == 0 {
			return '/'
		}
		i--
	}
	if i < len(t.s) {
		return t.s[i]
	}
	return '/'
}

func (t *text) hasPrefixAt(i int, s string) bool {
	if len(s) == 0 {
		return true
	}
	if t.pre {
		if i == 0 {
			return false // s is literal pattern text; pre'd patterns start with "**"
		}
		i--
	}
	if i > len(t.s) {
		return false
	}
	rest := t.s[i:]
	if strings.HasPrefix(rest, s) {
		return true
	}
	// With post, the text goes on with a '/' ("dir/***" against "dir").
	return t.post && len(s) == len(rest)+1 && s[len(rest)] == '/' && s[:len(rest)] == rest
}

// hasSuffix reports whether t ends with s; t.post must be false or s "".
func (t *text) hasSuffix(s string) bool {
	if len(s) <= len(t.s) {
		return t.s[len(t.s)-len(s):] == s
	}
	return t.pre && len(s) == len(t.s)+1 && s[0] == '/' && s[1:] == t.s
}

// hasSlashFrom reports whether t has a '/' at or after i.
func (t *text) hasSlashFrom(i int) bool {
	if t.post || (t.pre && i == 0) {
		return true
	}
	if t.pre {
		i--
	}
	return strings.IndexByte(t.s[i:], '/') >= 0
}

// dowild results, as in rsync's wildmatch.c.
const (
	wFalse           = 0
	wTrue            = 1
	wAbortAll        = -1
	wAbortToStarStar = -2
)

// dowild matches toks against t from position ti to its end; it is a port
// of rsync's dowild, including its early-abort return codes.
func dowild(r *rule, toks []tok, t *text, ti int) int {
	for pi := 0; pi < len(toks); pi, ti = pi+1, ti+1 {
		k := toks[pi]
		var c byte
		if ti >= t.n {
			if k.kind != tStar && k.kind != tStar2 {
				return wAbortAll
			}
		} else {
			c = t.at(ti)
		}
		switch k.kind {
		case tLit:
			if c != k.b {
				return wFalse
			}
		case tAny:
			if c == '/' {
				return wFalse
			}
		case tClass:
			if !r.sets[k.set].has(c) {
				return wFalse
			}
		default: // tStar, tStar2
			special := k.kind == tStar2
			if pi == len(toks)-1 {
				// Trailing "**" matches everything; trailing "*" only
				// if no '/' follows.
				if !special && ti < t.n && t.hasSlashFrom(ti) {
					return wFalse
				}
				return wTrue
			}
			rest := toks[pi+1:]
			for ; ti < t.n; ti++ {
				if res := dowild(r, rest, t, ti); res != wFalse {
					if !special || res != wAbortToStarStar {
						return res
					}
				} else if !special && t.at(ti) == '/' {
					return wAbortToStarStar
				}
			}
			return wAbortAll
		}
	}
	if ti < t.n {
		return wFalse
	}
	return wTrue
}

// String returns the patterns m was compiled from, rsync-style, one
// --exclude option each; it is meant for diagnostics.
func (m *Matcher) String() string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	for i, r := range m.rules {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("--exclude=")
		b.WriteString(r.src)
	}
	return b.String()
}
