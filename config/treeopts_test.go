package config

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// sync(extra=, rspeed=, rsync=) override the globals for that tree only;
// the legacy trees keep the globals.
func TestTreeOptions(t *testing.T) {
	cfg, _, err := loadSrc(t, `wpaths = ["@DIR@/src"]
rpaths = ["/r/"]
rnodes = ["web1:"]
extra = "-z"
rspeed = 100
sync("@DIR@/other/", "/o/", extra = "-a --rsh='ssh -p 2222'", rspeed = 1024/8, rsync = "/usr/bin/rsync")
`)
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Syncs[0]; s.Extra != nil || s.Bwlimit != "" || s.Rsync != "" {
		t.Errorf("legacy tree: %q %q %q, want the globals", s.Extra, s.Bwlimit, s.Rsync)
	}
	s := cfg.Syncs[1]
	if !slices.Equal(s.Extra, []string{"-a", "--rsh=ssh -p 2222"}) || s.Bwlimit != "128" || s.Rsync != "/usr/bin/rsync" || !strings.HasSuffix(s.ExtraPos, "cfg.py:6:5") {
		t.Errorf("sync(): extra %q (at %s), rspeed %q, rsync %q", s.Extra, s.ExtraPos, s.Bwlimit, s.Rsync)
	}
	for _, c := range []struct{ src, want string }{
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], extra = [\"-a\"])\n", "cfg.py:1:5: extra must be a string of rsync options, got list"},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], rspeed = [1])\n", "cfg.py:1:5: sync(rspeed=…) must be a number (KB/s), got list"},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], rsync = \"rsync\")\n", `cfg.py:1:5: sync(rsync=…) "rsync": the rsync path needs to be absolute`},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], extra = \"--rsh='ssh\")\n", "cfg.py:1:5: sync(extra=…): "},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// node(target, extra=, rspeed=) in sync(nodes=…): the node's options,
// beside plain string nodes.
func TestNodeOptions(t *testing.T) {
	cfg, _, err := loadSrc(t, `sync("@DIR@/src/", "/srv/", nodes = ["web1:", node("web2:", extra = "--rsh='ssh -p 2222'", rspeed = 50)])
`)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Syncs[0].Dests
	if d[0].Extra != nil || d[0].Bwlimit != "" || d[1].Node != "web2:" || d[1].Path != "web2:/srv/" ||
		!slices.Equal(d[1].Extra, []string{"--rsh=ssh -p 2222"}) || d[1].Bwlimit != "50" {
		t.Errorf("dests %+v", d)
	}
	for _, c := range []struct{ src, want string }{
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [node(\"h:\", extra = 1)])\n", "node(extra=…) must be a string of rsync options, got int 1"},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [node(\"h:\", rspeed = \"x\\x00\")])\n", "node(rspeed=…) \"x\\x00\" holds a NUL byte"},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [1])\n", "cfg.py:1:5: sync(nodes=…): item 0 must be a string or node(…), got int 1"},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// sync(after=…, after_timeout=…) and node(after=…): the node's command
// replaces the tree's, an empty one means none; a command that cannot run
// is refused at load with its position.
func TestAfterSetting(t *testing.T) {
	cfg, _, err := loadSrc(t, `sync("@DIR@/src/", "/srv/", after = ["/bin/echo", "--site", "www"], after_timeout = 5,
     nodes = ["web1:", node("web2:", after = ["/bin/true"]), node("web3:", after = [])])
sync("@DIR@/src/", "/other/", nodes = ["web1:"])
`)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Syncs[0]
	if !slices.Equal(s.After, []string{"/bin/echo", "--site", "www"}) || s.AfterTimeout != 5*time.Second {
		t.Errorf("tree after %q, timeout %v", s.After, s.AfterTimeout)
	}
	if d := s.Dests; d[0].After != nil || !slices.Equal(d[1].After, []string{"/bin/true"}) || d[2].After == nil || len(d[2].After) != 0 {
		t.Errorf("node after: %q %q %q", d[0].After, d[1].After, d[2].After)
	}
	if cfg.Syncs[1].After != nil {
		t.Errorf("a tree without after got %q", cfg.Syncs[1].After)
	}
	dir := t.TempDir()
	plain := dir + "/plain"
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ src, want string }{
		{`sync("@DIR@/src/", "/s/", nodes = [""], after = "/bin/true --x")` + "\n", `cfg.py:1:5: sync(after=…) must be a list: the program and its arguments, each a string (no shell runs it)`},
		{`sync("@DIR@/src/", "/s/", nodes = [""], after = ["true"])` + "\n", `cfg.py:1:5: sync(after=…): the program "true" needs its absolute path`},
		{`sync("@DIR@/src/", "/s/", nodes = [""], after = ["/nonexistent/purge"])` + "\n", "sync(after=…): the program /nonexistent/purge does not exist"},
		{`sync("@DIR@/src/", "/s/", nodes = [""], after = ["` + plain + `"])` + "\n", "is not executable (chmod +x it)"},
		{`sync("@DIR@/src/", "/s/", nodes = [""], after = ["/bin/true", 1])` + "\n", "sync(after=…): item 1 must be a string, got int 1"},
		{`sync("@DIR@/src/", "/s/", nodes = [node("h:", after = ["/"])])` + "\n", "node(after=…): / is a directory, not a program"},
		{`sync("@DIR@/src/", "/s/", nodes = [""], after = ["/bin/true"], after_timeout = 0)` + "\n", "cfg.py:1:5: after_timeout must be a number of seconds from 1"},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// node(…) in rnodes: its options reach the legacy trees and the sync()
// trees that default to rnodes; a plain string node stays as it was.
func TestNodeInRnodes(t *testing.T) {
	cfg, _, err := loadSrc(t, `wpaths = ["@DIR@/src/"]
rpaths = ["/r/"]
rnodes = ["web1:", node("web2:", extra = "--rsh='ssh -p 2222'", rspeed = 50, after = ["/bin/true"])]
sync("@DIR@/src/", "/s/")
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Syncs {
		d := s.Dests
		if len(d) != 2 || d[0].Node != "web1:" || d[0].Extra != nil || d[0].Bwlimit != "" || d[0].After != nil ||
			d[1].Node != "web2:" || d[1].Path != "web2:"+s.Target || !slices.Equal(d[1].Extra, []string{"--rsh=ssh -p 2222"}) ||
			d[1].Bwlimit != "50" || !slices.Equal(d[1].After, []string{"/bin/true"}) {
			t.Errorf("tree %s: dests %+v", s.Source, d)
		}
	}
	_, _, err = loadSrc(t, "wpaths = [\"@DIR@/src/\"]\nrpaths = [\"/r/\"]\nrnodes = [\"a:\", 3]\n")
	if err == nil || !strings.Contains(err.Error(), "cfg.py:3:") || !strings.Contains(err.Error(), "rnodes[1] must be a string or node(…), got int 3") {
		t.Errorf("a number in rnodes: %v", err)
	}
}

// The global after and after_timeout are every tree's default; an
// after_timeout that bounds no command is a warning.
func TestGlobalAfter(t *testing.T) {
	cfg, _, err := loadSrc(t, `wpaths = ["@DIR@/src/"]
rpaths = ["/r/"]
rnodes = ["web1:"]
after = ["/bin/true", "www"]
after_timeout = 7
sync("@DIR@/src/", "/s/", nodes = ["web2:"])
sync("@DIR@/src/", "/t/", nodes = ["web3:"], after = [])
`)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]string{{"/bin/true", "www"}, {"/bin/true", "www"}, {}} {
		if s := cfg.Syncs[i]; !slices.Equal(s.After, want) || s.AfterTimeout != 7*time.Second {
			t.Errorf("tree %d: after %q, timeout %v; want %q, 7s", i, s.After, s.AfterTimeout, want)
		}
	}
	cfg, _, err = loadSrc(t, "sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], after_timeout = 5)\nafter_timeout = 9\n")
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, w := range cfg.Warnings {
		warned = append(warned, w.Error())
	}
	if len(warned) != 2 || !strings.Contains(warned[0], "cfg.py:1:5: sync(after_timeout=…) is set but this tree has no after command") ||
		!strings.Contains(warned[1], "cfg.py:2:17: after_timeout is set but no tree has an after command") {
		t.Errorf("warnings %q", warned)
	}
}

// A helper named after is the config's own, a name like master is no
// misspelling of after, and a tree whose every node runs none has no
// after command to bound.
func TestAfterNamesOfTheConfigsOwn(t *testing.T) {
	cfg, _, err := loadSrc(t, `def after(path):
    return path
master = "web1"
after_timeout = 9
sync("@DIR@/src/", "/s/", nodes = [node("a:", after = []), "b:"], after = ["/bin/true"])
`)
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, w := range cfg.Warnings {
		warned = append(warned, w.Error())
	}
	if len(warned) != 0 {
		t.Errorf("warnings %q, want none", warned)
	}
	cfg, _, err = loadSrc(t, `after_timeout = 9
sync("@DIR@/src/", "/s/", nodes = [node("a:", after = [])], after = ["/bin/true"])
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Error(), "after_timeout is set but no tree has an after command") {
		t.Errorf("warnings %v, want the unused after_timeout", cfg.Warnings)
	}
}

// An unknown keyword of sync() or node() gets a did-you-mean for every
// parameter, not only those starlark's own check looks at.
func TestKeywordHints(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], afer = [\"/bin/true\"])\n", `sync: unexpected keyword argument "afer" (did you mean after?)`},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], after_timout = 5)\n", `(did you mean after_timeout?)`},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], sorce = 1)\n", `(did you mean source?)`},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [node(\"h:\", rsped = 5)])\n", `node: unexpected keyword argument "rsped" (did you mean rspeed?)`},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}
