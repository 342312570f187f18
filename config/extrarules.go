package config

import (
	"fmt"
	"slices"

	"github.com/inosync/inosync/rsync/filter"
)

// warnExtraRules warns about rsync options in extra (global, a tree's or
// a node's) that add filter rules (see filter.RuleOption): rsync applies
// them as written only when it walks the whole tree, so every sync of
// such a tree walks it, which takes longer than a run for the changed
// paths on a big tree. The same rules in excludes, exclude_from or
// filters are applied in watching too, and keep the runs for lists.
func (b *builder) warnExtraRules(c *Config) {
	warned := map[string]bool{}
	for _, s := range c.Syncs {
		extra, where := c.Extra, c.ExtraPos
		if s.Extra != nil {
			extra, where = s.Extra, s.ExtraPos
		}
		for _, d := range s.Dests {
			w := filter.RuleOption(append(slices.Clip(extra), d.Extra...))
			if w == "" || warned[where+w] {
				continue
			}
			warned[where+w] = true
			if where == "" {
				where = b.src.name
			}
			b.warnings = append(b.warnings, &Error{File: where, Msg: fmt.Sprintf(
				"%s in the rsync options of %s adds filter rules, which rsync applies as written only when it walks the whole tree (a run for the changed paths names each file, so a rule that leaves out a directory would not leave out the files named below it): so every sync of this tree walks all of it, slower on a big tree, renamed files are compared by size and time only, and with delete = \"running\" a deletion stays on the target. To sync only what changed, put the rules in excludes, exclude_from or filters (per-directory filter files have no such form)", w, s.Source)})
		}
	}
}
