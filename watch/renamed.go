package watch

import (
	"strconv"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// renamedFrom is the old name that fsnotify paired with ev, the Create of
// a rename's new name, by the inotify cookie both halves carry ("" when it
// paired none: the old name was outside every watched directory, or more
// than ten other renames came between the halves). fsnotify keeps the
// pairing in an unexported field that only Event.String shows, as
// `OP "new" ← "old"` (both quoted with %q); TestRenamedFromFsnotify pins
// that form, and anything else reads as no pairing, which costs a resend
// and nothing more.
func renamedFrom(ev fsnotify.Event) string {
	if !ev.Has(fsnotify.Create) {
		return ""
	}
	s := ev.String()
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return ""
	}
	name, err := strconv.QuotedPrefix(s[i:])
	if err != nil {
		return ""
	}
	rest, ok := strings.CutPrefix(s[i+len(name):], " ← ")
	if !ok {
		return ""
	}
	if n, err := strconv.Unquote(name); err != nil || n != ev.Name {
		return ""
	}
	from, err := strconv.Unquote(rest)
	if err != nil {
		return ""
	}
	return from
}

// fromRel is the old name of a rename whose new name ev reports, relative
// to w's root, when fsnotify paired it and it was in w's tree and not
// excluded there (the target has it); "" otherwise.
func (w *Watcher) fromRel(ev fsnotify.Event, isDir bool) string {
	from := renamedFrom(ev)
	if from == "" {
		return ""
	}
	rel, ok := w.relOf(from)
	if !ok || rel == "" || w.excluded(rel, isDir) {
		return ""
	}
	return rel
}
