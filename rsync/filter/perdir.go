package filter

import "strings"

// PerDirOption is the first word of an rsync command line's options that
// makes rsync read per-directory filter files as it walks the tree: -F or
// -C (alone or among other short options), --cvs-exclude, or a dir-merge
// rule (--filter, -f); "" if none. rsync applies such files as written
// only when it walks the whole tree: in a run for a list of paths
// (--files-from) it skips the transfer root's file for the names listed,
// and with --from0 it reads every file NUL-separated, so that rules
// written one per line become one rule (checked with rsync 3.5.0).
func PerDirOption(words []string) string {
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
		case w == "--cvs-exclude":
			return w
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
// "-"): found when it holds F or C; takesNext when its last letter takes
// the next word as its argument. The letters after one that takes an
// argument are that argument; a cluster ending in -f's rule is checked as
// a rule.
func shortCluster(letters string) (found, takesNext bool) {
	for i, l := range letters {
		switch l {
		case 'F', 'C':
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
