package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// loadLimited writes src (with @DIR@ replaced) as cfg.py in a temp dir
// holding src/ and loads it, through the checking child unless opts says
// otherwise, and returns the error with the directory cut off.
func loadLimited(t *testing.T, src string, opts Options) (*Config, string) {
	t.Helper()
	testutil.NeedRsync(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cfg.py")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(src, "@DIR@", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Cwd = dir
	cfg, err := Load(path, opts)
	if err == nil {
		return cfg, ""
	}
	msg := strings.ReplaceAll(err.Error(), dir+"/", "")
	var ce *Error
	if errorsAs(err, &ce) && ce.Hint != "" {
		msg += "\nhint: " + ce.Hint
	}
	return cfg, msg
}

func errorsAs(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

const legacyHead = "wpaths = ['src']\nrpaths = ['/a']\nrnodes = ['h:']\n"

// The four rows of issue 13, part 6: each crashed or hung inosync before.
func TestLimitRows(t *testing.T) {
	t.Run("one huge allocation", func(t *testing.T) {
		// 16 GB in one step: only the child's hard limit can stop it; the
		// locating run names the operator. A low limit keeps the test cheap.
		_, got := loadLimited(t, legacyHead+"x = [0] * 1000000000\n", Options{MaxMemory: 64 << 20})
		want := "cfg.py:4:9: the config needs more than 64 MiB of memory here (a list, string or number grown too large?)\n" +
			"hint: inosync stops a config at that size so that a mistake cannot take the machine down; make the value smaller"
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("costly steps", func(t *testing.T) {
		start := time.Now()
		_, got := loadLimited(t, legacyHead+"x = 1\nfor i in range(1000000):\n    x = x * 3\n", Options{Timeout: time.Second})
		// The loop's for and its * are both where it is busy.
		if !regexp.MustCompile(`^cfg\.py:(5:1|6:11): the config did not finish within 1s \(a loop that does too much, or numbers grown huge\?\)\nhint: a config normally loads in milliseconds`).MatchString(got) {
			t.Errorf("got %s", got)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("stopped after %v, want about 1s", took)
		}
	})
	t.Run("deep expression", func(t *testing.T) {
		_, got := loadLimited(t, legacyHead+"x = 1"+strings.Repeat(" + 1", 1500)+"\n", Options{})
		if want := "cfg.py:4:5: expression nested more than 1000 deep: split it (e.g. x = a + b, then x += c on the next line)"; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		_, got = loadLimited(t, legacyHead+"x = "+strings.Repeat("(", 1500)+"1"+strings.Repeat(")", 1500)+"\n", Options{})
		if want := "cfg.py:4:82: syntax error: brackets or operators nested more than 1000 deep: split the expression"; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("huge file", func(t *testing.T) {
		// The 2,000,000-term sum of the issue is 8 MB: refused by its size.
		_, got := loadLimited(t, legacyHead+"x = 1"+strings.Repeat(" + 1", 2_000_000)+"\n", Options{})
		if want := "cfg.py: the file is 8000055 bytes; the limit is 4 MiB (a config is normally a few kilobytes: is it the right file?)"; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("NUL byte", func(t *testing.T) {
		_, got := loadLimited(t, "wpaths = ['src']\nrpaths = ['/a\\x00b']\nrnodes = ['h:']\n", Options{})
		if want := `cfg.py:2:11: rpaths[0] "/a\x00b" holds a NUL byte (\x00): no path, pattern or rsync option can contain one (remove it)`; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

// The in-process checks, without the child: growth over many steps, and
// endless recursion.
func TestLimitsInProcess(t *testing.T) {
	tests := []struct {
		src  string
		opts Options
		want string
	}{
		{legacyHead + "x = []\nfor i in range(10000000):\n    x.append(i)\n", Options{MaxMemory: 16 << 20},
			`^cfg\.py:(5:1|6:\d+): the config needs more than 16 MiB of memory here`},
		{legacyHead + "def f(n):\n    return f(n + 1)\nf(0)\n", Options{},
			`^cfg\.py:5:\d+: functions call each other more than 10000 deep \(an endless recursion\?\)$`},
		{legacyHead + "while True:\n    pass\n", Options{MaxSteps: 1_000_000},
			`^cfg\.py:4:1: the config did not finish within 1000000 steps \(an endless loop\?\)$`},
	}
	for _, tt := range tests {
		tt.opts.SameProcess = true
		_, got := loadLimited(t, tt.src, tt.opts)
		if !regexp.MustCompile(tt.want).MatchString(got) {
			t.Errorf("%s\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// A NUL byte in any string that becomes a path, a pattern or an argument
// is an error at the value.
func TestNULBytes(t *testing.T) {
	const nul = `'x\x00y'`
	tests := []struct{ src, want string }{
		{"wpaths = ['src', " + nul + "]\nrpaths = ['/a', '/b']\nrnodes = ['h:']\n", `cfg.py:1:18: wpaths[1] "x\x00y" holds a NUL byte`},
		{"wpaths = ['src']\nrpaths = ['/a']\nrnodes = ['h:', " + nul + "]\n", `cfg.py:3:17: rnodes[1] "x\x00y" holds a NUL byte`},
		{legacyHead + "rexcludes = [" + nul + "]\n", `cfg.py:4:14: rexcludes[0] "x\x00y" holds a NUL byte`},
		{legacyHead + "rexcludes = [['a', " + nul + "]]\n", `cfg.py:4:14: rexcludes[0][1] "x\x00y" holds a NUL byte`},
		{legacyHead + "extra = '-a ' + " + nul + "\n", `cfg.py:4:9: extra "-a x\x00y" holds a NUL byte`},
		{legacyHead + "rsync = '/usr/bin/rsync\\x00'\n", `cfg.py:4:9: rsync "/usr/bin/rsync\x00" holds a NUL byte`},
		{legacyHead + "logfile = " + nul + "\n", `cfg.py:4:11: logfile "x\x00y" holds a NUL byte`},
		{legacyHead + "rspeed = " + nul + "\n", `cfg.py:4:10: rspeed "x\x00y" holds a NUL byte`},
		{legacyHead + "status_file = " + nul + "\n", `cfg.py:4:15: status_file "x\x00y" holds a NUL byte`},
		{legacyHead + "control_socket = " + nul + "\n", `cfg.py:4:18: control_socket "x\x00y" holds a NUL byte`},
		{legacyHead + "metrics_listen = " + nul + "\n", `cfg.py:4:18: metrics_listen "x\x00y" holds a NUL byte`},
		{"wpath = " + nul + "\nrnodes = ['h:']\n", `cfg.py:1:9: wpath "x\x00y" holds a NUL byte`},
		{"wpath = 'src'\nrpath = " + nul + "\nrnodes = ['h:']\n", `cfg.py:2:9: rpath "x\x00y" holds a NUL byte`},
		{"wpath = 'src'\nexcludes = [" + nul + "]\nrnodes = ['h:']\n", `cfg.py:2:13: excludes[0] "x\x00y" holds a NUL byte`},
		{"sync(source = " + nul + ", target = '/a', nodes = ['h:'])\n", `cfg.py:1:5: sync(source=…) "x\x00y" holds a NUL byte`},
		{"sync(source = 'src', target = " + nul + ", nodes = ['h:'])\n", `cfg.py:1:5: sync(target=…) "x\x00y" holds a NUL byte`},
		{"sync(source = 'src', target = '/a', nodes = [" + nul + "])\n", `cfg.py:1:5: sync(nodes=…): item 0 "x\x00y" holds a NUL byte`},
		{"sync(source = 'src', target = '/a', nodes = ['h:'], excludes = [" + nul + "])\n", `cfg.py:1:5: sync(excludes=…): item 0 "x\x00y" holds a NUL byte`},
	}
	for _, tt := range tests {
		_, got := loadLimited(t, tt.src, Options{SameProcess: true})
		want := tt.want + ` (\x00): no path, pattern or rsync option can contain one (remove it)`
		if got != want {
			t.Errorf("%s\n got %s\nwant %s", tt.src, got, want)
		}
	}
}

// The checking child agrees with an evaluation in this process on every
// config of the corpus: same error, or same rsync commands.
func TestChildCorpus(t *testing.T) {
	testutil.EachCorpusConfig(t, func(t *testing.T, f, cfgPath, root string) {
		opts := corpusOptions(root)
		inProcess, errIn := Load(cfgPath, opts)
		opts.SameProcess = false
		child, errChild := Load(cfgPath, opts)
		switch {
		case errIn != nil || errChild != nil:
			if errIn == nil || errChild == nil || errIn.Error() != errChild.Error() {
				t.Errorf("in this process: %v\nwith the child: %v", errIn, errChild)
			}
		case !sameRuns(inProcess, child) || !reflect.DeepEqual(inProcess.Warnings, child.Warnings):
			t.Errorf("with the child the config differs:\n%+v\n%+v", inProcess, child)
		}
	})
}

// A hook gets the wall-clock bound too.
func TestHookTimeLimit(t *testing.T) {
	const src = legacyHead + "def exclude(path, is_dir):\n    x = 0\n    for i in range(5000):\n        x += i\n    return False\n"
	for _, tt := range []struct {
		timeout time.Duration
		want    string
	}{
		{0, ""}, // the default: 25,000 steps take milliseconds
		{time.Nanosecond, "cfg.py:4: exclude hook failed: did not finish within 1ns (a loop that does too much?)"},
	} {
		cfg, got := loadLimited(t, src, Options{SameProcess: true, HookTimeout: tt.timeout})
		if got != "" {
			t.Fatal(got)
		}
		_, err := cfg.Syncs[0].ExcludeHooks[0]("a", false)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("hook: %v", err)
		case tt.want != "" && (err == nil || !strings.HasSuffix(err.Error(), tt.want)):
			t.Errorf("hook: %v, want an error ending %q", err, tt.want)
		}
	}
}
