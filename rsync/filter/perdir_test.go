package filter

import (
	"strings"
	"testing"
)

// PerDirOption finds the options that read per-directory filter files,
// alone or in a cluster of short options, and not the arguments of
// options that take one (-e's remote shell, -T's directory).
func TestPerDirOption(t *testing.T) {
	for line, want := range map[string]string{
		"-F":                                   "-F",
		"-avF":                                 "-avF",
		"-a -C":                                "-C",
		"-avzC -e ssh":                         "-avzC",
		"--cvs-exclude":                        "--cvs-exclude",
		"--filter=dir-merge_/.rules":           "--filter=dir-merge_/.rules",
		"-f :_.rsync-filter":                   "-f :_.rsync-filter",
		"-f:_.rsync-filter":                    "-f:_.rsync-filter",
		"--filter :-_.gitignore":               "--filter :-_.gitignore",
		"-z -e ssh_-F_/etc/ssh/x -v":           "",
		"-essh_-F_/x -v":                       "",
		"-T /tmp/F -M -F":                      "",
		"--rsh=ssh_-F_/x --filter=-_*.tmp":     "",
		"-avz --filter=merge_/etc/rules":       "",
		"-avz --exclude=CVS --delete-excluded": "",
	} {
		words := strings.Fields(line)
		for i, w := range words {
			words[i] = strings.ReplaceAll(w, "_", " ")
		}
		if got := PerDirOption(words); got != strings.ReplaceAll(want, "_", " ") {
			t.Errorf("PerDirOption(%q) = %q, want %q", words, got, want)
		}
	}
}
