package lsyncd

import (
	"strings"
	"testing"
	"time"
)

// The Lua runs without file, OS, module or code loading, and within time
// and memory bounds; what goes wrong is reported with the config's name
// and, for Lua errors, its line.
func TestSandbox(t *testing.T) {
	lim := Limits{Timeout: 500 * time.Millisecond, MaxMemory: 64 << 20}
	for _, c := range []struct{ name, src, want string }{
		{"os", "os.execute('touch /tmp/x')\n", "t.lua:1: attempt to index a non-table object(nil) with key 'execute'"},
		{"io", "local f = io.open('/etc/passwd')\n", "t.lua:1: attempt to index a non-table object(nil) with key 'open'"},
		{"require", "require('socket')\n", "t.lua:1: attempt to call a non-function object"},
		{"dofile", "\ndofile('/etc/lsyncd/other.lua')\n", "t.lua:2: attempt to call a non-function object"},
		{"load", "load('return 1')()\n", "t.lua:1: attempt to call a non-function object"},
		{"loop", "while true do end\n", "t.lua: evaluating it took longer than 500ms; is there a loop that never ends?"},
		{"memory", "local t = {}\nfor i = 1, 1e9 do t[i] = {i} end\n", "t.lua: evaluating it took more than 16 MiB of memory"},
		{"rep", "local s = string.rep('x', 1e9)\n", "string.rep: a string of 1000000000 × 1 bytes is more than a config needs"},
		{"method rep", "local s = ('xy'):rep(1e9)\n", "is more than a config needs"},
		{"recursion", "local function f() return 1 + f() end\nf()\n", "stack overflow"},
		{"syntax", "sync {\n  source = '/srv/www'\n  target = 'x'\n}\n", "t.lua is not valid Lua: t.lua line:3(column:8) near 'target'"},
		{"no sync", "settings { statusFile = '/tmp/s' }\n", "t.lua calls no sync{…}: there is nothing to convert"},
		{"no target", "sync { default.rsync, source = '/srv/www' }\n", "t.lua: no sync{…} could be converted:\n# t.lua:1: sync{default.rsync, source = \"/srv/www/\"} has no target; left out"},
		{"sync of a string", "sync 'x'\n", "t.lua:1: sync{…} takes a table, got string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lim := lim
			if c.name == "memory" { // time enough to fill it, even under -race
				lim = Limits{Timeout: time.Minute, MaxMemory: 16 << 20}
			}
			_, err := Convert("t.lua", []byte(c.src), lim)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one with %q", err, c.want)
			}
		})
	}
}

// The options that lsyncd's default-rsync.lua computes, as extra and the
// settings that inosync has for them; a value with a space or a $ is
// quoted for extra's shell-like split.
func TestRsyncOptions(t *testing.T) {
	out, err := Convert("t.lua", []byte(`
sync { default.rsync, source = "/srv/a", target = "h:/a",
  rsync = { archive = true, links = false, devices = false, compress = true, bwlimit = 100, timeout = 30,
            chmod = "D2775,F664", rsh = "ssh -p 2222", binary = "/opt/rsync/bin/rsync", _extra = { "--exclude=$TMP" } } }
`), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`    extra = "-tpgozs '--exclude=$TMP' --specials --chmod=D2775,F664 '--rsh=ssh -p 2222' --timeout=30 --no-links",`,
		"    rspeed = 100,\n    timeout = 30,\n    rsync = \"/opt/rsync/bin/rsync\",\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("converted:\n%s\nwant it to hold\n%s", out, want)
		}
	}
}
