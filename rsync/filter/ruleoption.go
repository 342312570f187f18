package filter

import "strings"

// RuleOption is the first word of an rsync command line's options that
// adds filter rules (--exclude, --include, their -from forms, --filter or
// -f, -F, -C, --cvs-exclude; alone or in a cluster of short options), or
// "" if none. rsync applies such rules as written only when it walks the
// whole tree (checked with rsync 3.5.0). A run for a list of paths
// (--files-from) names each file itself, so a rule that leaves out a
// directory does not leave out the files listed below it; and
// per-directory filter files (-F, -C, a dir-merge rule) are then read
// otherwise: the transfer root's is skipped for the names listed, and
// with --from0 each file is read as one rule.
func RuleOption(words []string) string {
	for i := 0; i < len(words); i++ {
		w := words[i]
		name, _, hasValue := strings.Cut(w, "=")
		switch {
		case ruleLongOption[name]:
			if hasValue {
				return w
			}
			if i+1 < len(words) {
				return w + " " + words[i+1]
			}
			return w
		case name == "--cvs-exclude":
			return w
		case takesWord[name] && !hasValue:
			i++ // its argument is not an option
		case strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--"):
			if found, takesNext := shortCluster(w[1:]); found {
				if takesNext && i+1 < len(words) {
					return w + " " + words[i+1]
				}
				return w
			} else if takesNext {
				i++
			}
		}
	}
	return ""
}

// ruleLongOption holds rsync's long options that add filter rules and take
// a value (after "=" or as the next word).
var ruleLongOption = map[string]bool{
	"--exclude": true, "--include": true, "--exclude-from": true,
	"--include-from": true, "--filter": true,
}

// takesWord holds the long options whose value may be the next word and
// may look like an option itself.
var takesWord = map[string]bool{"--rsh": true, "--temp-dir": true, "--remote-option": true}

// shortCluster reads a cluster of rsync's short options (the letters after
// "-"): found when it holds F, C or f (-f's rule is the rest of the
// cluster or, when none is left, the next word: takesNext); takesNext,
// without found, when its last letter takes the next word as its
// argument. The letters after one that takes an argument are that
// argument.
func shortCluster(letters string) (found, takesNext bool) {
	for i, l := range letters {
		switch l {
		case 'F', 'C':
			return true, false
		case 'f':
			return true, i == len(letters)-1
		case 'e', 'B', 'T', 'M':
			return false, i == len(letters)-1
		}
	}
	return false, false
}
