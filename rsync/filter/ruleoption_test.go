package filter

import (
	"strings"
	"testing"
)

// RuleOption finds the options that add filter rules, alone or in a
// cluster of short options, with their value, and not the arguments of
// options that take one (-e's remote shell, -T's directory, -M's option).
func TestRuleOption(t *testing.T) {
	for line, want := range map[string]string{
		"-F":                                "-F",
		"-avF":                              "-avF",
		"-a -C":                             "-C",
		"-avzC -e ssh":                      "-avzC",
		"--cvs-exclude":                     "--cvs-exclude",
		"--filter=dir-merge_/.rules":        "--filter=dir-merge_/.rules",
		"-f :_.rsync-filter":                "-f :_.rsync-filter",
		"-f:_.rsync-filter":                 "-f:_.rsync-filter",
		"-avz --filter=merge_/etc/rules":    "--filter=merge_/etc/rules",
		"--filter -_*.tmp":                  "--filter -_*.tmp",
		"--exclude=cache/":                  "--exclude=cache/",
		"-a --exclude .git":                 "--exclude .git",
		"--include=*/ --exclude=*":          "--include=*/",
		"--exclude-from=/etc/excl.lst":      "--exclude-from=/etc/excl.lst",
		"--include-from list":               "--include-from list",
		"-z -e ssh_-F_/etc/ssh/x -v":        "",
		"-essh_-F_/x -v":                    "",
		"-T /tmp/F -M -F":                   "",
		"--rsh=ssh_-F_/x --delete-excluded": "",
		"--rsh ssh_--exclude=x":             "",
		"-avz --delete --exclude-other=1":   "",
		"--filter=P_keep/":                  "",
		"--filter protect_/keep2 -F":        "-F",
		"-f R_*.tmp":                        "",
		"-fP_keep/":                         "",
		"-avfP_keep/":                       "",
		"--filter=P_keep/ --exclude=x":      "--exclude=x",
		"-aF -f P_keep/":                    "-aF",
	} {
		words := strings.Fields(line)
		for i, w := range words {
			words[i] = strings.ReplaceAll(w, "_", " ")
		}
		if got := RuleOption(words); got != strings.ReplaceAll(want, "_", " ") {
			t.Errorf("RuleOption(%q) = %q, want %q", words, got, want)
		}
	}
}
