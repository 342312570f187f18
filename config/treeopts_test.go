package config

import (
	"slices"
	"strings"
	"testing"
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
