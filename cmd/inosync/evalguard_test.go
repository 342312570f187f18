package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/inosync/inosync/internal/testutil"
)

// A config that would crash or hang the evaluator is a config error:
// located, exit status 1, never a Go runtime crash (exit 2 is for usage
// errors). The wall-clock row is in config's TestLimitRows (it needs a
// limit lowered below the default 10 s).
func TestConfigLimitsExitStatus(t *testing.T) {
	testutil.NeedRsync(t)
	dir := t.TempDir()
	head := "wpaths = ['" + dir + "']\nrpaths = ['/a']\nrnodes = ['h:']\n"
	tests := []struct {
		name, src, want string
	}{
		{"huge allocation", head + "x = [0] * 1000000000\n",
			`^inosync: \S*cfg\.py:4:9: the config needs more than 512 MiB of memory here \(a list, string or number grown too large\?\)\n` +
				`inosync: hint: inosync stops a config at that size so that a mistake cannot take the machine down; make the value smaller\n$`},
		{"deep expression", head + "x = 1" + strings.Repeat(" + 1", 5000) + "\n",
			`^inosync: \S*cfg\.py:4:5: expression nested more than 1000 deep: split it`},
		{"huge file", head + "x = 1" + strings.Repeat(" + 1", 2_000_000) + "\n",
			`^inosync: \S*cfg\.py: the file is 8000\d+ bytes; the limit is 4 MiB`},
		{"NUL byte", strings.Replace(head, "'/a'", `'/a\x00b'`, 1),
			`^inosync: \S*cfg\.py:2:11: rpaths\[0\] "/a\\x00b" holds a NUL byte \(\\x00\): no path, pattern or rsync option can contain one \(remove it\)\n$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "cfg.py")
			must(t, os.WriteFile(cfg, []byte(tt.src), 0o644))
			for _, args := range [][]string{{"--check", "-c", cfg}, {"--convert", cfg}} {
				var out, errb bytes.Buffer
				code := run(args, &out, &errb)
				if code != 1 || out.Len() > 0 || !regexp.MustCompile(tt.want).MatchString(errb.String()) {
					t.Errorf("inosync %s: exit %d, stdout %q, stderr %q; want 1, nothing, and %s", args[0], code, out.String(), errb.String(), tt.want)
				}
			}
		})
	}
}

// A reload of a config that would take the machine down is refused with
// its position, and the daemon keeps running the old one.
func TestReloadRefusesRunawayConfig(t *testing.T) {
	testutil.NeedRsync(t)
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "a/f"), "a")
	const good = `sync("@BASE@/a/", "@BASE@/a-dst/", nodes = [""], delay = 0)
`
	o := startObserved(t, base, good)
	converges(t, filepath.Join(base, "a"), filepath.Join(base, "a-dst"), "the initial sync")
	for _, bad := range []struct{ text, want string }{
		{good + "x = [0] * 1000000000\n", `reloading \S*cfg\.py: \S*cfg\.py:2:9: the config needs more than 512 MiB of memory here`},
		{good + "x = 1" + strings.Repeat(" + 1", 5000) + "\n", `reloading \S*cfg\.py: \S*cfg\.py:2:5: expression nested more than 1000 deep`},
		{strings.Replace(good, `a-dst/"`, `a-dst/\x00"`, 1), `reloading \S*cfg\.py: \S*cfg\.py:1:5: sync\(target=…\) "\S*/a-dst/\\x00" holds a NUL byte`},
	} {
		writeCfg(t, o.cfg, base, bad.text)
		code, _, errs := o.client("reload")
		if code != 1 || !regexp.MustCompile(bad.want).MatchString(errs) {
			t.Errorf("reload: exit %d, stderr %q; want 1 and %s", code, errs, bad.want)
		}
	}
	writeFile(t, filepath.Join(base, "a/g"), "after the refused reloads")
	converges(t, filepath.Join(base, "a"), filepath.Join(base, "a-dst"), "a, synced with the old config")
	must(t, o.stop(t))
}
