package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// exclude_from: files of patterns read by the daemon, globally for every
// tree and per sync(), comments and blank lines left out, in order after
// the tree's own excludes; a bad pattern is an error at its file's line.
func TestExcludeFrom(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := write("all.excludes", "# caches\n*.tmp\n\n; editors\n*~\r\n")
	web := write("web.excludes", "/uploads/\n+ /keep/***\n")
	cfg, _, err := loadSrc(t, `wpaths = ["@DIR@/src"]
rpaths = ["/r/"]
rnodes = ["web1:"]
rexcludes = ["/cache/"]
exclude_from = "`+all+`"
sync("@DIR@/other/", "/o/", excludes = ["/x/"], exclude_from = ["`+web+`"])
`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Syncs[0].Excludes, []string{"/cache/", "*.tmp", "*~"}; !slices.Equal(got, want) {
		t.Errorf("legacy tree's excludes %q, want %q", got, want)
	}
	if got, want := cfg.Syncs[1].Excludes, []string{"/x/", "/uploads/", "+ /keep/***", "*.tmp", "*~"}; !slices.Equal(got, want) {
		t.Errorf("sync() tree's excludes %q, want %q", got, want)
	}

	bad := write("bad.excludes", "*.tmp\n\n[abc\n")
	for _, c := range []struct{ src, want string }{
		{"exclude_from = \"" + bad + "\"\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", bad + ":3:1: pattern \"[abc\": "},
		{"exclude_from = \"" + filepath.Join(dir, "none") + "\"\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", "cfg.py:1:16: exclude_from: cannot read the exclude file: open " + filepath.Join(dir, "none")},
		{"exclude_from = 1\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", "cfg.py:1:16: exclude_from must be the path of a file of exclude patterns, or a list of them, got int 1"},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], exclude_from = [2])\n", "cfg.py:1:5: sync(exclude_from=…)[0] must be the path of a file of exclude patterns, got int 2"},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// filters: rsync's include and exclude rules in order, per sync() before
// its excludes, and globally for every tree after its own.
func TestFilters(t *testing.T) {
	cfg, _, err := loadSrc(t, `filters = ["- *.bak"]
sync("@DIR@/src/", "/s/", nodes = [""], excludes = ["*.tmp"], filters = ["+ /keep/***", "- /cache/"])
`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Syncs[0].Excludes, []string{"+ /keep/***", "- /cache/", "*.tmp", "- *.bak"}; !slices.Equal(got, want) {
		t.Errorf("excludes %q, want %q", got, want)
	}
	for _, c := range []struct{ src, want string }{
		{"filters = [\"*.tmp\"]\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", `cfg.py:1:11: filters[0] "*.tmp" must begin with "+ " (include) or "- " (exclude)`},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], filters = [\"+ [abc\"])\n", `cfg.py:1:5: sync(filters=…)[0]: pattern "+ [abc"`},
		{"filters = \"- x\"\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", `cfg.py:1:11: filters must be a list of rules`},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}
