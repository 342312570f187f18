package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// loadSrc writes src as cfg.py in a temp dir holding src/ and other/, and
// loads it with that dir as the start-up directory.
func loadSrc(t *testing.T, src string, extraFiles ...string) (*Config, string, error) {
	t.Helper()
	testutil.NeedRsync(t)
	dir := t.TempDir()
	for _, d := range []string{"src", "other", "src/inner"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i+1 < len(extraFiles); i += 2 {
		if err := os.WriteFile(filepath.Join(dir, extraFiles[i]), []byte(extraFiles[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "cfg.py")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(src, "@DIR@", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	var printed []string
	// In this process only: the checking child has tests of its own
	// (limits_test.go), and a race-detector child costs ~80 ms.
	cfg, err := Load(path, Options{Cwd: dir, Env: map[string]string{"HOME": "/home/x"}, Hostname: "box",
		Print: func(s string) { printed = append(printed, s) }, SameProcess: true})
	return cfg, dir, err
}

func dests(c *Config) []string {
	var out []string
	for _, s := range c.Syncs {
		for _, d := range s.Dests {
			out = append(out, s.Source+" -> "+d.Path)
		}
	}
	return out
}

func TestLoadForms(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "source -> dest", with @DIR@
	}{
		{"plural, relative wpath made absolute without its slash",
			`wpaths = ["src/", "@DIR@/other/"]
rpaths = ["/a", "/b/"]
rnodes = ["", "h:"]`,
			[]string{"@DIR@/src -> /a", "@DIR@/src -> h:/a", "@DIR@/other/ -> /b/", "@DIR@/other/ -> h:/b/"}},
		{"singular: rpath appended only to empty or host-only nodes",
			`wpath = "@DIR@/src"
rpath = "/srv/x"
rnodes = ["h1:", "u@h2:/other/", "", "/local/"]`,
			[]string{"@DIR@/src -> h1:/srv/x", "@DIR@/src -> u@h2:/other/", "@DIR@/src -> /srv/x", "@DIR@/src -> /local/"}},
		{"tuples work as lists",
			`wpaths = ("src",)
rpaths = ("/a",)
rnodes = ("h:",)`,
			[]string{"@DIR@/src -> h:/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, dir, err := loadSrc(t, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "@DIR@", dir))
			}
			if got := dests(cfg); !reflect.DeepEqual(got, want) {
				t.Errorf("destinations\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestLoadSettings(t *testing.T) {
	cfg, _, err := loadSrc(t, `wpaths = ["src", "other"]
rpaths = ["/a", "/b"]
rnodes = ["h:"]
rexcludes = [[".git/"], ["*.tmp", "/cache/"]]
rspeed = 1000/3.0
edelay = 2.5
emask = {"IN_CREATE": 1, "IN_MODIFY": 2}
logfile = ""
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Bwlimit; got != "333.333333333" {
		t.Errorf("Bwlimit = %q, want Python 2's str() of the float", got)
	}
	if cfg.Delay != 2500*time.Millisecond {
		t.Errorf("Delay = %v", cfg.Delay)
	}
	if got := cfg.Events; !reflect.DeepEqual(got, []string{"IN_CREATE", "IN_MODIFY"}) {
		t.Errorf("Events = %q", got)
	}
	if got := [][]string{cfg.Syncs[0].Excludes, cfg.Syncs[1].Excludes}; !reflect.DeepEqual(got, [][]string{{".git/"}, {"*.tmp", "/cache/"}}) {
		t.Errorf("Excludes = %q", got)
	}
	if cfg.Logfile != "" {
		t.Errorf("Logfile = %q, want none", cfg.Logfile)
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, _, err := loadSrc(t, `wpaths = ["src"]
rpaths = ["/a"]
rnodes = ["h:"]
rspeed = -5
`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bwlimit != "0" || cfg.Delay != DefaultDelay || cfg.Rsync != DefaultRsync || cfg.Logfile != "" ||
		!reflect.DeepEqual(cfg.Events, DefaultEvents) || cfg.Extra != nil {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestLoadRspeed(t *testing.T) {
	for src, want := range map[string]string{"1024/8": "128", "512": "512", "2.0": "2", `"1m"`: "1m", "-1.5": "0"} {
		cfg, _, err := loadSrc(t, "wpaths = ['src']\nrpaths = ['/a']\nrnodes = ['h:']\nrspeed = "+src+"\n")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Bwlimit != want {
			t.Errorf("rspeed = %s: --bwlimit=%s, want %s", src, cfg.Bwlimit, want)
		}
	}
}

func TestLoadWarnings(t *testing.T) {
	cfg, _, err := loadSrc(t, `wpath = "src"
rpath = "/a"
rnodes = ["h:"]
rexclude = [".git/"]
extra = "-z"
emask = ["IN_CREATE", "IN_OPEN"]
`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.Error()[strings.Index(w.Error(), "cfg.py"):])
	}
	want := []string{
		"cfg.py:6:23: emask: IN_OPEN is accepted but never starts a sync (it fires on reads, which made 0.2.3 loop on its own rsync runs)",
		"cfg.py:5:9: extra is ignored with the singular wpath form, as inosync 0.2.1 and the tagged 0.2.3 never read it (use wpaths/rpaths to pass rsync options)",
		"cfg.py:4:12: rexclude is not a setting inosync reads; did you mean rexcludes?",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings\n got %q\nwant %q", got, want)
	}
}

func TestLoadNestedWarning(t *testing.T) {
	cfg, dir, err := loadSrc(t, "wpaths = ['src', 'src/inner']\nrpaths = ['/a', '/b']\nrnodes = ['h:']\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, dir+"/src/inner lies inside "+dir+"/src") {
		t.Errorf("warnings = %v", cfg.Warnings)
	}
}

func TestLoadPythonisms(t *testing.T) {
	cfg, dir, err := loadSrc(t, `import os.path
from os.path import join
import socket, helper
try:
    import json
except ImportError:
    json = None
print "name", __name__
host = socket.gethostname()
if json is None and 0 < len(host) < 10:
    wpaths = [join(os.path.dirname(__file__), helper.sub)]
rpaths = [u"/srv/" + host + "/\.x"]
rnodes = [helper.node]
rspeed = 0100
`, "helper.py", "sub = 'src'\nnode = 'n1:'\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dests(cfg), []string{dir + "/src -> n1:/srv/box/\\.x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if cfg.Bwlimit != "64" {
		t.Errorf("0100 gave --bwlimit=%s, want 64", cfg.Bwlimit)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"wpaths = ['src']\nrpaths = ['/a']\nrnodes = ['h:']\nemask = []\n", "cfg.py:4:9: emask is empty: no event would ever start a sync"},
		{"wpaths = ['src']\nrpaths = ['/a', '/b']\nrnodes = ['h:']\n", "cfg.py:2:10: rpaths has 2 entries but wpaths has 1"},
		{"wpaths = ['src']\nrnodes = ['h:']\n", "cfg.py: rpaths is missing: give one remote path per entry of wpaths (no paths given for the transfer)"},
		{"wpaths = ['src', 'other']\nrpaths = ['/a', '/b']\nrnodes = ['h:']\nrexcludes = [['x'], ['y'], ['z']]\n", "cfg.py:4:13: rexcludes holds one list per watched path, but has 3 entries for 2 watched paths"},
		{"wpath = 'src'\nrnodes = ['']\n", "cfg.py:2:11: rnodes[0] is empty and rpath is not set: there is no destination"},
		{"wpaths = ['src']\nrpaths = ['/a']\nrnodes = ['h:']\nrsync = 'rsync'\n", `cfg.py:4:9: rsync "rsync": the rsync path needs to be absolute`},
		{"wpaths = ['src']\nrpaths = ['/a']\nrnodes = ['h:']\nedelay = 'soon'\n", `cfg.py:4:10: edelay must be a number of seconds, got string "soon"`},
		{"wpaths = ['src']\nrpaths = ['/a']\nrnodes = ['h:']\nx = open('/etc/passwd')\n", "cfg.py:4:9: open: inosync configs cannot read or write files"},
		{"wpaths = ['src']\nrpaths = ['/a']\nrnodes = ['h:' + 1]\n", "cfg.py:3:16: unknown binary op: string + int"},
		{"import helper\n", "helper.py:1:5: undefined: nope"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, _, err := loadSrc(t, tt.src, "helper.py", "x = nope\n")
			if err == nil {
				t.Fatal("loaded")
			}
			got := err.Error()
			if i := strings.LastIndex(got, "/"); i >= 0 && strings.HasPrefix(got, "/") {
				got = got[i+1:]
			}
			if got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// A Python 3 f-string gets a hint at its position, not the parser's
// "got string literal".
func TestFStringHint(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"x = 1\nwpaths = [f\"@DIR@/src/{x}\"]\n", `cfg.py:2:11: f-strings are not supported; use "%s" % (x,) or "{}".format(x)`},
		{"name = \"a\"\nprint(F'hello {name}')\n", "cfg.py:2:7: f-strings are not supported"},
		{"name = \"a\"\nprint(rf'hello {name}')\n", "cfg.py:2:7: f-strings are not supported"},
		{"elf \"x\"\n", "cfg.py:1:8: syntax error: got string literal"},
		{"extra = \"-F\" +\n", "syntax error"},
		{"rexcludes = [\"*.pdf\", \"-f\" \"x\" 2]\n", "syntax error"},
		{"x = \"x\" + # f\"y\"\n", "syntax error"},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// An lsyncd config given to inosync says so, and where the mapping is.
func TestLsyncdConfigHint(t *testing.T) {
	_, _, err := loadSrc(t, "settings {\n  logfile = \"/var/log/lsyncd.log\",\n}\nsync { default.rsync, source = \"/srv/www/\", target = \"web1:/var/www/\" }\n")
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("%v, want a located config error", err)
	}
	if !strings.Contains(ce.Msg, "this looks like an lsyncd config") || !strings.Contains(ce.Hint, "docs/migrating.md") || !strings.Contains(ce.Hint, "inosync --convert ") || ce.Line != 1 {
		t.Errorf("%v (hint %q), want the lsyncd message at line 1 with the hint", err, ce.Hint)
	}
}

// rsync options in extra that add filter rules are warned about once per
// place they are written; other options, and -F or --exclude inside the
// remote shell's command, are not.
func TestExtraRulesWarning(t *testing.T) {
	for extra, want := range map[string]string{
		`-F`:                                  "-F in the rsync options of",
		`-avF`:                                "-avF in the rsync options of",
		`--filter='dir-merge /.rules'`:        "--filter=dir-merge /.rules in the rsync options of",
		`-f ': .rsync-filter'`:                "-f : .rsync-filter in the rsync options of",
		`-avz --filter='merge /etc/rules'`:    "--filter=merge /etc/rules in the rsync options of",
		`--exclude-from=/etc/x.lst`:           "--exclude-from=/etc/x.lst in the rsync options of",
		`-z -e 'ssh -F /etc/ssh/x' -v`:        "",
		`--rsh='ssh -F /x' --delete-excluded`: "",
		`-z --rsh 'ssh -o X=--exclude=y'`:     "",
	} {
		cfg, _, err := loadSrc(t, "wpaths = ['src', 'other']\nrpaths = ['/a', '/b']\nrnodes = ['h:']\nextra = \""+strings.ReplaceAll(extra, `"`, `\"`)+"\"\n")
		if err != nil {
			t.Fatalf("extra = %s: %v", extra, err)
		}
		var got []string
		for _, w := range cfg.Warnings {
			if strings.Contains(w.Msg, "adds filter rules") {
				got = append(got, w.Error())
			}
		}
		switch {
		case want == "" && len(got) > 0:
			t.Errorf("extra = %s: warned %q", extra, got)
		case want != "" && (len(got) != 1 || !strings.Contains(got[0], want) || !strings.Contains(got[0], "cfg.py:4:")):
			t.Errorf("extra = %s: warnings %q, want one at cfg.py:4 containing %q", extra, got, want)
		}
	}
}
