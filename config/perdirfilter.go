package config

import (
	"fmt"
	"slices"
	"strings"
)

// warnPerDirFilters warns about rsync options in extra (global, a tree's
// or a node's) that make rsync read per-directory filter files (-F, a
// dir-merge rule): rsync reads those files as it walks, with the --from0
// of the run's command line, and a run for changed paths has one for its
// NUL-separated list, so their rules, written one per line, are then read
// as one and do not apply. Such files' rules hold only in full syncs.
func (b *builder) warnPerDirFilters(c *Config) {
	warned := map[string]bool{}
	for _, s := range c.Syncs {
		extra, where := c.Extra, c.ExtraPos
		if s.Extra != nil {
			extra, where = s.Extra, s.ExtraPos
		}
		for _, d := range s.Dests {
			w := perDirFilterOption(append(slices.Clip(extra), d.Extra...))
			if w == "" || warned[where+w] {
				continue
			}
			warned[where+w] = true
			if where == "" {
				where = b.src.name
			}
			b.warnings = append(b.warnings, &Error{File: where, Msg: fmt.Sprintf(
				"%s in the rsync options of %s makes rsync read per-directory filter files, and in the runs for changed paths rsync reads them NUL-separated (the --from0 of the changed paths' list), so rules written one per line hold only in full syncs: put them in excludes or filters", w, s.Source)})
		}
	}
}

// perDirFilterOption is the first word of an rsync command line's options
// that makes rsync read per-directory filter files: -F (alone or among
// other short options), or a dir-merge rule (--filter, -f); "" if none.
func perDirFilterOption(words []string) string {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--filter" || w == "-f":
			if i+1 < len(words) && perDirRule(words[i+1]) {
				return w + " " + words[i+1]
			}
			i++
		case strings.HasPrefix(w, "--filter="):
			if perDirRule(strings.TrimPrefix(w, "--filter=")) {
				return w
			}
		case w == "--rsh" || w == "--temp-dir" || w == "--remote-option":
			i++ // their argument is not an option
		case strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--"):
			if found, takesNext := shortCluster(w[1:]); found {
				return w
			} else if takesNext {
				i++
			}
		}
	}
	return ""
}

// shortCluster reads a cluster of rsync's short options (the letters after
// "-"): found when it holds F; takesNext when its last letter takes the
// next word as its argument. The letters after one that takes an argument
// are that argument; a cluster ending in -f's rule is checked as a rule.
func shortCluster(letters string) (found, takesNext bool) {
	for i, l := range letters {
		switch l {
		case 'F':
			return true, false
		case 'f':
			rest := letters[i+1:]
			return rest != "" && perDirRule(rest), rest == ""
		case 'e', 'B', 'T', 'M':
			return false, i == len(letters)-1
		}
	}
	return false, false
}

// perDirRule reports whether a filter rule reads a file in each directory:
// "dir-merge" or its short form ":" (with modifiers).
func perDirRule(rule string) bool {
	rule = strings.TrimSpace(rule)
	return strings.HasPrefix(rule, "dir-merge") || strings.HasPrefix(rule, ":")
}
