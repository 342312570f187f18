package filter

import "strings"

// RuleOption is the first word of an rsync command line's options that
// adds filter rules (--exclude, --include, their -from forms, --filter or
// -f, -F, -C, --cvs-exclude; alone or in a cluster of short options), with
// its value when that is the next word, or "" if none. A protect or risk
// rule (P, R) is not counted: it applies to a list's names too. rsync applies such rules as written only when it walks the
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
			value, next := w[min(len(name)+1, len(w)):], ""
			if !hasValue && i+1 < len(words) {
				value, next = words[i+1], " "+words[i+1]
				i++
			}
			if name == "--filter" && receiverRule(value) {
				continue
			}
			return w + next
		case name == "--cvs-exclude":
			return w
		case takesWord[name] && !hasValue:
			i++ // its argument is not an option
		case strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--"):
			perDir, hasRule, rule, takesNext := shortCluster(w[1:])
			next := ""
			if takesNext && i+1 < len(words) {
				next = " " + words[i+1]
				if hasRule {
					rule = words[i+1]
				}
				i++
			}
			if perDir || hasRule && !receiverRule(rule) {
				return w + next
			}
		}
	}
	return ""
}

// receiverRule reports whether a filter rule only protects files on the
// receiver from deletion, or takes such protection back (P, protect, R,
// risk): rsync applies it in a run for a list too, to the names listed and
// inside listed directories (checked with rsync 3.5.0).
func receiverRule(rule string) bool {
	rule = strings.TrimSpace(rule)
	for _, word := range []string{"protect ", "risk ", "P ", "R ", "P,", "R,", "protect,", "risk,"} {
		if strings.HasPrefix(rule, word) {
			return true
		}
	}
	return false
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
// "-"): perDir when it holds F or C; hasRule when it holds f, whose rule is
// the rest of the cluster or, when none is left, the next word
// (takesNext); takesNext also when its last letter is another that takes
// the next word as its argument. The letters after one that takes an
// argument are that argument.
func shortCluster(letters string) (perDir, hasRule bool, rule string, takesNext bool) {
	for i, l := range letters {
		switch l {
		case 'F', 'C':
			perDir = true
		case 'f':
			rest := letters[i+1:]
			return perDir, true, rest, rest == ""
		case 'e', 'B', 'T', 'M':
			return perDir, false, "", i == len(letters)-1
		}
	}
	return perDir, false, "", false
}
