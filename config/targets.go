package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/inosync/inosync/rsync/filter"
	"github.com/inosync/inosync/rsync/operand"
)

// targetsApart refuses a local target that lies inside its tree's source,
// unless the tree's patterns exclude it (each sync would copy the copies
// again, without end), or that holds the source while the tree deletes on
// its target (that would delete the source's own files). A target on
// another node cannot be checked from here.
func (b *builder) targetsApart(syncs []Sync, cwd string) error {
	for _, s := range syncs {
		src := filepath.Clean(s.Source)
		for _, d := range s.Dests {
			dir, ok := localTarget(s.Source, d.Path, cwd)
			if !ok {
				continue
			}
			var msg string
			switch {
			case dir == src:
				msg = fmt.Sprintf("the target %s of %s is the source itself: give another directory", d.Path, s.Source)
			case within(dir, src) && !excludedBelow(s, dir[len(src)+1:]):
				msg = fmt.Sprintf("the target %s lies inside the source %s: each sync would copy the copies again, without end; give a directory outside the source, or exclude the target's directory", d.Path, s.Source)
			case within(src, dir) && s.Delete != DeleteNone:
				msg = fmt.Sprintf("the source %s lies inside its target %s: a sync that deletes on the target would delete the source's files; give a directory outside the source (or set delete = False)", s.Source, d.Path)
			default:
				continue
			}
			return b.treeError(s, msg)
		}
	}
	return nil
}

// excludedBelow reports whether rel, a directory below tree s's source,
// is excluded by the tree's patterns, as rsync anchors them (see
// operand.Root).
func excludedBelow(s Sync, rel string) bool {
	m, err := filter.Compile(s.Excludes)
	if err != nil {
		return false // checkPatterns says why
	}
	_, prefix := operand.Root(s.Source)
	return m.Excluded(prefix+rel, true)
}

// localTarget returns the directory that a local destination makes the
// copy of source's files in (the destination itself for a source written
// with a trailing slash, else the directory of source's name below it),
// cleaned and absolute; false for a destination on another node.
func localTarget(source, dest, cwd string) (string, bool) {
	if !operand.Local(dest) {
		return "", false
	}
	dir := dest
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(cwd, dir)
	}
	_, prefix := operand.Root(source)
	return filepath.Join(dir, prefix), true
}

// within reports whether path lies below dir (both cleaned).
func within(path, dir string) bool {
	return strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// treeError is an error about tree s, at its sync() call, or at rpaths
// (rpath) for the legacy variables.
func (b *builder) treeError(s Sync, msg string) error {
	if s.Pos != "" {
		return &Error{File: s.Pos, Msg: msg}
	}
	for _, name := range []string{"rpaths", "rpath"} {
		if p := b.src.settingPos(name); p.line > 0 {
			return b.errAt(p, "%s", msg)
		}
	}
	return &Error{File: b.src.name, Msg: msg}
}
