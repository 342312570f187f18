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
		{"os", "os.execute('touch /tmp/x')\n", "t.lua:1: os.execute is not available while converting: the config runs without files, environment or processes"},
		{"io", "local f = io.open('/etc/passwd')\n", "t.lua:1: io.open is not available while converting"},
		{"getenv", "local home = os.getenv('HOME')\n", "t.lua:1: os.getenv is not available while converting"},
		{"require", "require('socket')\n", "t.lua:1: require is not available while converting: the config is read on its own"},
		{"dofile", "\ndofile('/etc/lsyncd/other.lua')\n", "t.lua:2: dofile is not available while converting"},
		{"load", "load('return 1')()\n", "t.lua:1: load is not available while converting"},
		{"unclosed", "settings {\n  logfile = '/tmp/l',\n\nsync { default.rsync, source = '/a', target = 'h:/a' }\n\n", "t.lua:4: the file ends inside a table, a call or a block"},
		{"loop", "while true do end\n", "t.lua: evaluating it took longer than 500ms; is there a loop that never ends?"},
		{"memory", "local t = {}\nfor i = 1, 1e9 do t[i] = {i} end\n", "t.lua: evaluating it took more than 16 MiB of memory"},
		{"rep", "local s = string.rep('x', 1e9)\n", "string.rep: a string of 1000000000 × 1 bytes is more than a config needs"},
		{"method rep", "local s = ('xy'):rep(1e9)\n", "is more than a config needs"},
		{"recursion", "local function f() return 1 + f() end\nf()\n", "stack overflow"},
		{"syntax", "sync {\n  source = '/srv/www'\n  target = 'x'\n}\n", `t.lua:3:8: syntax error near "target": this is not valid Lua (a missing comma between two fields of a table?)`},
		{"table.unpack", "local a, b = table.unpack({ '/srv/a', 'h:/a' })\nsync { default.rsync, source = a, target = b, delete = 7 }\nsync 'x'\n", "t.lua:3: sync{…} takes a table"},
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
		`    extra = "-tpgozs --no-links '--exclude=$TMP' --specials --chmod=D2775,F664 '--rsh=ssh -p 2222' --timeout=30",`,
		"    rspeed = 100,\n    timeout = 30,\n    rsync = \"/opt/rsync/bin/rsync\",\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("converted:\n%s\nwant it to hold\n%s", out, want)
		}
	}
}

// splitTarget takes the node off an lsyncd target as rsync reads it.
func TestSplitTarget(t *testing.T) {
	for _, c := range []struct{ in, node, path string }{
		{"/backup/www", "", "/backup/www"},
		{"host:/var/www", "host:", "/var/www"},
		{"deploy@host:www", "deploy@host:", "www"},
		{"host:", "host:", ""},
		{"host::module/site", "host::", "module/site"},
		{"rsync://host/module/site", "rsync://host/", "module/site"},
		{"[fe80::1]:/srv", "[fe80::1]:", "/srv"},
		{"./relative:dir", "", "./relative:dir"},
	} {
		if node, path := splitTarget(c.in); node != c.node || path != c.path {
			t.Errorf("splitTarget(%q) = %q, %q; want %q, %q", c.in, node, path, c.node, c.path)
		}
	}
}

// Inheritance is lsyncd's: the sync's own keys first, then its layers in
// the order named; list values add up. A table that inherits itself does
// not hang the conversion.
func TestInherit(t *testing.T) {
	out, err := Convert("t.lua", []byte(`
local a = { default.rsync, delay = 3, exclude = { "*.tmp" } }
local b = { default.rsync, delay = 7, exclude = { "*.bak" }, rsync = { compress = true } }
sync { a, b, source = "/srv/a", target = "/b/a", exclude = { "*.swp" } }
sync { a, b, source = "/srv/a", target = "/b/a", exclude = { "*.swp" } }
local c = { default.rsync, source = "/srv/c", target = "/b/c" }
c[2] = c
c[3] = c
sync(c)
`), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"    delay = 3,\n    excludes = [\"*.swp\", \"*.tmp\", \"*.bak\"],\n    extra = \"-ltzs --no-perms\",\n",
		"    source = \"/srv/c/\",\n    target = \"/b/c/\",\n",
		"# t.lua:5: the same sync{…} to \"/b/a/\" again (lsyncd ran it twice); synced once\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("converted:\n%s\nwant it to hold\n%s", out, want)
		}
	}
}

// A value that cannot be converted without changing what the config does
// fails the conversion at its sync's line; one that only loses a detail
// is a comment, kept on one line.
func TestBadValues(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`sync { default.rsync, source = "/s", target = "/t", exclude = { "*.tmp", true } }`, "t.lua:1: exclude must be a string or a list of strings, got table"},
		{`sync { default.rsync, source = "/s", target = "/t", filter = 3 }`, ""},
		{`sync { default.rsync, source = "s", target = "/t" }`, `t.lua:1: source = "s" is relative: lsyncd read it from the directory it was started in; write the absolute path`},
		{`sync { default.rsync, source = "/s", target = "/t", exlude = { "*.tmp" } }`, "t.lua:1: exlude is not an lsyncd sync setting (lsyncd refuses the config: a misspelling?)"},
		{`sync { default.rsync, source = "/s", target = "/t", rsync = { compres = true } }`, "t.lua:1: rsync.compres is not an rsync option lsyncd knows"},
		{`settings { statusfile = "/s" }` + "\n" + `sync { default.rsync, source = "/s", target = "/t" }`, "t.lua:1: settings.statusfile is not an lsyncd setting"},
		{`sync { default.rsynssh, source = "/s", host = "h", targetdir = "/t" }`, "t.lua:1: this sync{…} inherits none of lsyncd's layers (default.rsync, default.rsyncssh, default.direct) and has no actions"},
		{`sync { default.rsync, source = "/s", target = "/t", rsync = { timeout = "abc" } }`, "t.lua:1: rsync.timeout must be a number of seconds, got abc"},
		{"settings { statusInterval = \"x\\nrnodes = 1\" }\nsync { default.rsync, source = \"/s\", target = \"/t\" }", "t.lua:1: settings.statusInterval must be a number of seconds"},
		{`settings { statusFile = {} }` + "\n" + `sync { default.rsync, source = "/s", target = "/t" }`, "t.lua:1: settings.statusFile must be a file name"},
	} {
		_, err := Convert("t.lua", []byte(c.src), DefaultLimits)
		if c.want == "" { // filter = 3: a number is read as one pattern, as a string would be
			if err != nil {
				t.Errorf("%s: %v", c.src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n error %v\n want %q", c.src, err, c.want)
		}
	}
	out, err := Convert("t.lua", []byte("settings { logfile = \"/var/log/a\\nrnodes = ['evil:']\" }\nsync { default.rsync, source = \"/s\", target = \"/t\", delay = math.huge }\n"), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "\nrnodes") || !strings.Contains(string(out), `/var/log/a\nrnodes`) || !strings.Contains(string(out), ": not a number of seconds; left at 15") {
		t.Errorf("converted:\n%s", out)
	}
}

// In the child, one library call that asks for more memory than the
// limit, or runs on in one call past the time limit, ends the child, and
// the conversion says which; a config that converts gives its text.
func TestChildLimits(t *testing.T) {
	lim := Limits{Timeout: time.Second, MaxMemory: 64 << 20}
	for _, c := range []struct{ name, src, want string }{
		{"concat", "local s = string.rep('x', 1048576)\nlocal parts = {}\nfor i = 1, 2048 do parts[i] = s end\nlocal big = table.concat(parts)\n",
			"t.lua: evaluating it took more than 1024 MiB of memory"},
		{"pattern", "local s = string.rep('a', 20000)\nlocal x = string.find(s, '.-.-.-.-.-.-b')\n",
			"t.lua: evaluating it took longer than 1s"},
		{"lua error", "sync 'x'\n", "t.lua:1: sync{…} takes a table, got string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := convertInChild("t.lua", []byte(c.src), lim)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one with %q", err, c.want)
			}
		})
	}
	out, err := convertInChild("t.lua", []byte(`sync { default.rsync, source = "/srv/a", target = "h:/a" }`), lim)
	if err != nil || !strings.Contains(string(out), `nodes = ["h:"]`) {
		t.Errorf("converted in the child: %v\n%s", err, out)
	}
}

// What lsyncd users' configs showed (a trial with posted configs): _extra
// may turn on again what the letters left off, and its --bwlimit and
// --timeout become the settings that inosync passes after extra; a delete
// that is no known value deleted nothing; a layer of one's own with a
// startup action starts with a full sync; maxDelays = 1 synced at once.
func TestLsyncdUsersConfigs(t *testing.T) {
	out, err := Convert("t.lua", []byte(`
settings { maxDelays = 1 }
sync { default.rsync, source = "/srv/a", target = "h:/a", delete = "false",
       rsync = { _extra = { "-a", "--bwlimit=200M", "--timeout=60" } } }
local bash = { delay = 5, onStartup = "cp -r ^source* ^target", onCreate = "cp -r ^sourcePathname ^targetPathname" }
sync { bash, source = "/srv/b", target = "/b" }
`), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`# t.lua:3: delete = "false" (a string): lsyncd deletes only for true, "startup" and "running", so this deleted nothing: delete = False`,
		"    delay = 0,\n    delete = False,\n    extra = \"-lts --no-perms -a --timeout=60\",\n    rspeed = \"200M\",\n    timeout = 60,\n",
		"lsyncd ran its own actions, not rsync, and its own startup action; converted as default.rsync, starting with a full rsync",
		"    source = \"/srv/b/\",\n    target = \"/b/\",\n    nodes = [\"\"],\n    delay = 0,\n    extra",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("converted:\n%s\nwant it to hold\n%s", out, want)
		}
	}
	if strings.Contains(string(out), "    init = False,") {
		t.Errorf("a layer with a startup action converted with init = False:\n%s", out)
	}
}

// A second reading's cases: exit code tables lsyncd accepts, a limit given
// as two words, settings after the last sync, the hint of a syntax error
// only where a comma may be missing.
func TestSecondReading(t *testing.T) {
	out, err := Convert("t.lua", []byte(`
sync { default.rsync, source = "/srv/a", target = "h:/a", exitcodes = { [23] = "ok" },
       rsync = { _extra = { "--bwlimit", "100", "--timeout", "30" } } }
settings { delay = 3 }
`), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# t.lua:2: exitcodes: inosync has its own rules for rsync's exit codes",
		"# t.lua:4: settings.delay comes after the last sync{…}: lsyncd applied it to none",
		"    delay = 15,\n",
		"    extra = \"-lts --no-perms --timeout=30\",\n    rspeed = 100,\n    timeout = 30,\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("converted:\n%s\nwant it to hold\n%s", out, want)
		}
	}
	_, err = Convert("t.lua", []byte("x = = 1\n"), DefaultLimits)
	if err == nil || strings.Contains(err.Error(), "missing comma") || !strings.HasPrefix(err.Error(), "t.lua:1:") {
		t.Errorf("x = = 1: %v", err)
	}
}

// A deleting option in _extra made rsync delete in every run, whatever
// delete said (lsyncd passed it on): the tree converts with delete = True,
// which inosync requires of such an option, and says why.
func TestDeletingExtraMeansDeleteTrue(t *testing.T) {
	out, err := Convert("t.lua", []byte(`
sync { default.rsync, source = "/srv/a", target = "h:/a", delete = "false",
       rsync = { _extra = { "--delete-excluded" } } }
sync { default.rsync, source = "/srv/b", target = "h:/b", delete = "running" }
`), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, `# t.lua:2: whatever delete said (here False), --delete-excluded in rsync._extra made rsync delete in every run (lsyncd passed it on): delete = True`) {
		t.Errorf("no note on the deleting option:\n%s", s)
	}
	if strings.Contains(s, "so this deleted nothing") || strings.Count(s, "    delete = ") != 1 || !strings.Contains(s, `    delete = "running",`) {
		t.Errorf("want delete = True (the default) for /srv/a, and \"running\" kept for /srv/b:\n%s", s)
	}
}
