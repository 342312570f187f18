package config

import (
	"fmt"
	"slices"

	"github.com/inosync/inosync/rsync/filter"
)

// warnPerDirFilters warns about rsync options in extra (global, a tree's
// or a node's) that make rsync read per-directory filter files (-F, -C, a
// dir-merge rule; see filter.PerDirOption): rsync applies those files'
// rules as written only when it walks the whole tree, so every sync of
// such a tree walks it, which takes longer than a run for the changed
// paths on a big tree.
func (b *builder) warnPerDirFilters(c *Config) {
	warned := map[string]bool{}
	for _, s := range c.Syncs {
		extra, where := c.Extra, c.ExtraPos
		if s.Extra != nil {
			extra, where = s.Extra, s.ExtraPos
		}
		for _, d := range s.Dests {
			w := filter.PerDirOption(append(slices.Clip(extra), d.Extra...))
			if w == "" || warned[where+w] {
				continue
			}
			warned[where+w] = true
			if where == "" {
				where = b.src.name
			}
			b.warnings = append(b.warnings, &Error{File: where, Msg: fmt.Sprintf(
				"%s in the rsync options of %s makes rsync read per-directory filter files, whose rules rsync applies as written only when it walks the whole tree: so every sync of this tree walks all of it (slower on a big tree than a run for the changed paths), and renamed files are compared by size and time only. To sync only what changed, put the rules in excludes or filters", w, s.Source)})
		}
	}
}
