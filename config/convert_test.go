package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/inosync/inosync/compat"
	"github.com/inosync/inosync/internal/testutil"
)

var legacyAssign = regexp.MustCompile(`(?m)^(wpaths|wpath|rpaths)\s*[+]?=`)

// TestConvertCorpus converts every corpus config and checks that the
// result loads to the same initial rsync commands, no longer sets the
// legacy tree variables, and keeps every comment line.
func TestConvertCorpus(t *testing.T) {
	testutil.EachCorpusConfig(t, func(t *testing.T, f, cfgPath, root string) {
		opts := corpusOptions(root)
		out, err := Convert(cfgPath, opts)
		if _, _, ok := testutil.CorpusExpectation(t, f, root); !ok {
			_, loadErr := Load(cfgPath, opts)
			if err == nil || loadErr == nil || err.Error() != loadErr.Error() {
				t.Fatalf("Convert error %v, want Load's error %v", err, loadErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("convert: %v", err)
		}
		checkConverted(t, cfgPath, testutil.ReadSubstituted(t, f, root), out, opts)
	})
}

// checkConverted writes out beside cfgPath and checks it against the
// original: same argv, no legacy tree variables, every comment line kept.
func checkConverted(t *testing.T, cfgPath, orig string, out []byte, opts Options) {
	t.Helper()
	convPath := strings.TrimSuffix(cfgPath, ".py") + "_converted.py"
	if err := os.WriteFile(convPath, out, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := Load(cfgPath, opts)
	if err != nil {
		t.Fatalf("load the original: %v", err)
	}
	got, err := Load(convPath, opts)
	if err != nil {
		t.Fatalf("load the converted file: %v\n%s", err, out)
	}
	if !sameRuns(got, want) {
		t.Errorf("the converted config runs other rsync commands\n got: %+v\nwant: %+v\n%s", got, want, out)
	}
	if got.Form != "sync" {
		t.Errorf("converted form is %q, want sync", got.Form)
	}
	if m := legacyAssign.FindString(string(out)); m != "" {
		t.Errorf("converted file still sets %q:\n%s", m, out)
	}
	kept := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		kept[strings.TrimSpace(l)] = true
	}
	for _, l := range strings.Split(orig, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "#") && !kept[l] {
			t.Errorf("comment line %q is lost:\n%s", l, out)
		}
	}
}

// convertText writes text as cfg.py into a fresh root (src1/, src2/, …),
// converts it, and checks the round trip. It returns the root and output.
func convertText(t *testing.T, text string) (string, string) {
	t.Helper()
	root := testutil.CorpusRoot(t)
	text = strings.ReplaceAll(text, "@ROOT@", root)
	cfgPath := filepath.Join(root, "cfg.py")
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Cwd: root, Env: map[string]string{"HOME": "/root"}}
	out, err := Convert(cfgPath, opts)
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	checkConverted(t, cfgPath, text, out, opts)
	return root, strings.ReplaceAll(string(out), root, "@ROOT@")
}

func TestConvertPluralGolden(t *testing.T) {
	testutil.NeedRsync(t)
	_, got := convertText(t, `# Two trees, two mirrors: every tree goes to every node.
wpaths = ["@ROOT@/src1/", "@ROOT@/src2/"]

rexcludes = [
	".git/",  # never the repository
]

# one remote path per tree
rpaths = ["/srv/site/a", "/srv/site/b/"]

rnodes = [
	"sync@mirror1.example.org:",
	"sync2@mirror2.example.org:",
]

extra = "--rsh='ssh -p 2222'"
logfile = "@ROOT@/logs/inosync.log"
`)
	want := `rnodes = [
	"sync@mirror1.example.org:",
	"sync2@mirror2.example.org:",
]

extra = "--rsh='ssh -p 2222'"
logfile = "@ROOT@/logs/inosync.log"

# converted by inosync --convert from the wpaths/rpaths form
sync(
    # Two trees, two mirrors: every tree goes to every node.
    source = "@ROOT@/src1/",
    # one remote path per tree
    target = "/srv/site/a",
    # never the repository
    excludes = [".git/"],
)
sync(
    source = "@ROOT@/src2/",
    target = "/srv/site/b/",
    excludes = [".git/"],
)
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestConvertSingularGolden(t *testing.T) {
	testutil.NeedRsync(t)
	_, got := convertText(t, `wpath = "@ROOT@/src1" # no trailing slash

# 0.2.1's name
excludes = ["*.tmp", "/cache/"]

rpath = "/var/lib/www"

# host part only: rpath is appended
rnodes = [
	"user1@mirror1.example.org:",
	"user2@mirror2.example.org:",
]

# never read by this form
extra = "--rsh='ssh -p 2222' \
--chmod=Du=rwx"

edelay = 2
`)
	want := `rpath = "/var/lib/www"

# host part only: rpath is appended
rnodes = [
	"user1@mirror1.example.org:",
	"user2@mirror2.example.org:",
]

edelay = 2

# converted by inosync --convert from the wpath form
sync(
    # no trailing slash
    source = "@ROOT@/src1",
    target = "/var/lib/www",
    # 0.2.1's name
    excludes = ["*.tmp", "/cache/"],
)

# never read by this form
# extra was ignored by the wpath form; uncomment to pass it to rsync
#extra = "--rsh='ssh -p 2222' \
#--chmod=Du=rwx"
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A legacy variable other code reads is renamed, not removed; values with
// quotes and backslashes come out as literals that read back the same.
func TestConvertRenamesReadVariables(t *testing.T) {
	testutil.NeedRsync(t)
	_, got := convertText(t, `import os.path
wpath = os.path.join("@ROOT@", "src2")
rpath = os.path.basename(wpath)
print "watching %s" % wpath
def where():
    return wpath
rexcludes = ['it"s', "back\\slash", "tab\there"]
rnodes = ["host:"]
`)
	want := `import os.path
_wpath = os.path.join("@ROOT@", "src2")
rpath = os.path.basename(_wpath)
print "watching %s" % _wpath
def where():
    return _wpath
rnodes = ["host:"]

# converted by inosync --convert from the wpath form
sync(
    source = "@ROOT@/src2",
    target = "src2",
    excludes = ["it\"s", "back\\slash", "tab\there"],
)
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A "#!" line and a coding declaration stay at the top; what the
// commented-out extra reads is kept (renamed with it).
func TestConvertPreambleAndExtraReads(t *testing.T) {
	testutil.NeedRsync(t)
	_, got := convertText(t, `#!/usr/bin/env python
# -*- coding: utf-8 -*-
# temporary files
rexcludes = ["*.tmp"]
wpath = "@ROOT@/src1/"
rnodes = ["web1:/srv/www/"]
extra = "--exclude-from=" + wpath + ".rsync-exclude"
`)
	want := `#!/usr/bin/env python
# -*- coding: utf-8 -*-
_wpath = "@ROOT@/src1/"
rnodes = ["web1:/srv/www/"]

# converted by inosync --convert from the wpath form
sync(
    source = "@ROOT@/src1/",
    target = "",
    # temporary files
    excludes = ["*.tmp"],
)

# extra was ignored by the wpath form; uncomment to pass it to rsync
#extra = "--exclude-from=" + _wpath + ".rsync-exclude"
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// The legacy trees ran before the sync() calls: the new calls go before
// the first statement that calls sync().
func TestConvertMixedKeepsOrder(t *testing.T) {
	testutil.NeedRsync(t)
	_, got := convertText(t, `rnodes = ["a:"]

# the newer tree
sync(source = "@ROOT@/src2", target = "/b")

wpaths = ["@ROOT@/src1"]
rpaths = ["/a"]
`)
	want := `rnodes = ["a:"]

# converted by inosync --convert from the wpaths/rpaths form
sync(
    source = "@ROOT@/src1",
    target = "/a",
)

# the newer tree
sync(source = "@ROOT@/src2", target = "/b")
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestConvertErrors(t *testing.T) {
	testutil.NeedRsync(t)
	for _, tc := range []struct{ name, text, want string }{
		{"block", "rnodes = ['a:']\nrpaths = ['/a']\nif True:\n    wpaths = ['@ROOT@/src1']\n",
			"cfg.py:4:5: cannot convert: wpaths is set inside a block; move it to the top level first"},
		{"for", "rnodes = ['a:']\nwpath = '@ROOT@/src1'\nfor x in [1]:\n    rexcludes = ['a']\n",
			"cfg.py:4:5: cannot convert: rexcludes is set inside a block; move it to the top level first"},
		{"shared line", "rnodes = ['a:']; wpaths = ['@ROOT@/src1']\nrpaths = ['/a']\n",
			"cfg.py:1:18: cannot convert: wpaths shares a line with another statement; put it on a line of its own first"},
		{"sync form", "rnodes = ['a:']\nsync(source = '@ROOT@/src1', target = '/a')\n",
			"cfg.py: nothing to convert: the config sets neither wpaths nor wpath (it already uses sync())"},
		{"side effect", "rn = []\ndef f():\n    rn.append('a:')\n    return ['@ROOT@/src1']\nwpaths = f()\nrpaths = ['/a']\nrnodes = rn\n",
			"cfg.py: cannot convert: the converted config would not load (@ROOT@/cfg.py:8:5: sync(source=\"@ROOT@/src1\") has no nodes: give nodes=[…] or set rnodes); convert this config by hand"},
		{"invalid", "wpaths = ['@ROOT@/src1']\nrpaths = []\nrnodes = ['a:']\n",
			"cfg.py:2:10: rpaths has 0 entries but wpaths has 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := testutil.CorpusRoot(t)
			cfgPath := filepath.Join(root, "cfg.py")
			if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(tc.text, "@ROOT@", root)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := Convert(cfgPath, Options{Cwd: root})
			if err == nil {
				t.Fatalf("converted, want an error:\n%s", out)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error %T, want *Error", err)
			}
			if got := strings.ReplaceAll(strings.TrimPrefix(err.Error(), root+"/"), root, "@ROOT@"); got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// quoteString's literals read back as the same string through compat and
// Starlark.
func TestConvertQuote(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b`, `back\slash`, "nl\nx", "tab\t", "cr\r", "\x01\x7f", "é ü 日本", `\u00e9`, "it's", "%s {x}"} {
		src := "x = " + quoteString(s) + "\n"
		rw, err := compat.Rewrite("q.py", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		g, err := starlark.ExecFileOptions(&fileOptions, &starlark.Thread{}, "q.py", rw.Src, nil)
		if err != nil {
			t.Fatalf("%q: %s: %v", s, src, err)
		}
		if got, _ := starlark.AsString(g["x"]); got != s {
			t.Errorf("quoteString(%q) = %s reads back as %q", s, quoteString(s), got)
		}
	}
}

// A CRLF file stays CRLF, the new lines included.
func TestConvertCRLF(t *testing.T) {
	testutil.NeedRsync(t)
	text := "# the tree\r\nwpaths = [\"@ROOT@/src1/\"]\r\nrpaths = [\"/a\"]\r\nrnodes = [\"web1:\"]\r\n"
	_, got := convertText(t, text)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	for _, l := range lines {
		if !strings.HasSuffix(l, "\r") {
			t.Errorf("line %q lacks its CR:\n%q", l, got)
		}
	}
	if !strings.Contains(got, "sync(\r\n    # the tree\r\n    source = ") {
		t.Errorf("got %q", got)
	}
}

// corpusOptions are the options a corpus config is loaded with: relative
// paths against its root, and the HOME the corpus README names.
func corpusOptions(root string) Options {
	return Options{Cwd: root, Env: map[string]string{"HOME": "/root"}, SameProcess: true} // the child: TestChildCorpus
}

// The global filters and exclude_from stay global: the sync() calls get
// only the legacy trees' own excludes, so the converted config does not
// apply them twice (it runs the same rsync commands).
func TestConvertKeepsGlobalFilters(t *testing.T) {
	testutil.NeedRsync(t)
	excl := filepath.Join(t.TempDir(), "web.excludes")
	if err := os.WriteFile(excl, []byte("*.bak\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, got := convertText(t, `wpaths = ["@ROOT@/src1/"]
rpaths = ["/r/"]
rnodes = ["web1:"]
filters = ["- *.log"]
exclude_from = "`+excl+`"
`)
	want := `rnodes = ["web1:"]
filters = ["- *.log"]
exclude_from = "` + excl + `"

# converted by inosync --convert from the wpaths/rpaths form
sync(
    source = "@ROOT@/src1/",
    target = "/r/",
)
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
