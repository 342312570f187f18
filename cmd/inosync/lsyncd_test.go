package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/compat/lsyncd"
	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/internal/testutil"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/lsyncd/*.py from the converter's output")

// TestLsyncdCorpus converts each lsyncd config of testdata/lsyncd and
// compares the result with its .py (go test -run TestLsyncdCorpus -update
// rewrites them). Each result must load, and the initial rsync command
// lines that --check prints must carry the options, excludes and deletion
// that lsyncd itself runs for the same config (lsyncd -log Exec, when it
// is installed), save --ignore-errors, which inosync leaves out.
func TestLsyncdCorpus(t *testing.T) {
	testutil.NeedRsync(t)
	files, err := filepath.Glob("../../testdata/lsyncd/*.lua")
	if err != nil || len(files) < 15 {
		t.Fatalf("want 15 or more lsyncd configs, got %d (%v)", len(files), err)
	}
	lsyncdBin, _ := exec.LookPath("lsyncd")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".lua")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			must(t, err)
			out, err := lsyncd.Convert(filepath.Base(f), src, lsyncd.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".lua") + ".py"
			if *updateGolden {
				must(t, os.WriteFile(golden, out, 0o644))
			}
			want, err := os.ReadFile(golden)
			must(t, err)
			if !bytes.Equal(out, want) {
				t.Errorf("converted:\n%s\nwant (%s):\n%s", out, golden, want)
			}

			root := t.TempDir()
			lua := corpusTree(t, root, src)
			converted, err := lsyncd.Convert(name+".lua", lua, lsyncd.DefaultLimits)
			must(t, err)
			cfgPath := filepath.Join(root, name+".py")
			must(t, os.WriteFile(cfgPath, converted, 0o644))
			cfg, err := config.Load(cfgPath, config.Options{Cwd: root})
			if err != nil {
				t.Fatalf("the converted config does not load: %v\n%s", err, converted)
			}
			ours := map[string]rsyncRun{}
			for _, argv := range initialArgv(cfg) {
				r := effective(argv[1 : len(argv)-2])
				ours[strings.Join(argv[len(argv)-2:], " ")] = r
			}
			if lsyncdBin == "" {
				t.Log("lsyncd is not installed: the options are not compared with the ones it runs")
				return
			}
			luaPath := filepath.Join(root, name+".lua")
			// lsyncd 2.2 refuses 2.0's settings = {…}; it means settings{…}.
			must(t, os.WriteFile(luaPath, settingsAssign.ReplaceAll(lua, []byte("settings {")), 0o644))
			theirs := lsyncdStartups(t, lsyncdBin, luaPath, len(ours))
			for dest, r := range theirs {
				o, ok := ours[dest]
				switch {
				case !ok:
					t.Errorf("lsyncd runs a startup rsync %s; the converted config has none (it has %v)", dest, slices.Sorted(mapKeys(ours)))
				case !slices.Equal(o.opts, r.opts) || !slices.Equal(o.excludes, r.excludes):
					t.Errorf("%s:\n  inosync options %q excludes %q\n  lsyncd  options %q excludes %q", dest, o.opts, o.excludes, r.opts, r.excludes)
				}
			}
			for dest := range ours {
				if _, ok := theirs[dest]; !ok {
					t.Errorf("inosync runs an initial rsync %s that lsyncd does not", dest)
				}
			}
		})
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// corpusPaths are the absolute paths of the corpus configs that are made
// under a test's root: sources, local targets, exclude files, log files.
var corpusPaths = regexp.MustCompile(`(["'])/(srv|var|etc|backup|mnt)/([^"']*)`)

// corpusTree rewrites the corpus paths of an lsyncd config into root and
// makes them there: a file for a name with a dot in its last element, a
// directory otherwise. It returns the rewritten config.
func corpusTree(t *testing.T, root string, src []byte) []byte {
	t.Helper()
	for _, m := range corpusPaths.FindAllSubmatch(src, -1) {
		p := filepath.Join(root, string(m[2]), string(m[3]))
		if strings.Contains(filepath.Base(p), ".") || strings.HasSuffix(p, "secret") || strings.Contains(p, "id_") {
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			must(t, os.WriteFile(p, nil, 0o600))
		} else {
			must(t, os.MkdirAll(p, 0o755))
		}
	}
	// Trees that the Lua builds from parts (base .. name).
	for _, d := range []string{"srv/sites/blog", "srv/sites/shop", "srv/sites/docs", "srv/debian", "srv/ubuntu"} {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	return corpusPaths.ReplaceAll(src, []byte("${1}"+root+"/${2}/${3}"))
}

// rsyncRun is what an rsync command line does, in a form that two
// spellings of it share: its options one by one by their long names
// ("perms", "compress", "bwlimit=100"), sorted, and its excludes.
type rsyncRun struct {
	opts     []string
	excludes []string
}

// letters are rsync's one-letter options by their long names.
var letters = map[rune][]string{
	'l': {"links"}, 't': {"times"}, 'p': {"perms"}, 'g': {"group"}, 'o': {"owner"}, 'D': {"devices", "specials"},
	'r': {"recursive"}, 'z': {"compress"}, 's': {"protect-args"}, 'H': {"hard-links"}, 'A': {"acls"}, 'X': {"xattrs"},
	'E': {"executability"}, 'S': {"sparse"}, 'c': {"checksum"}, 'u': {"update"}, 'W': {"whole-file"}, 'x': {"one-file-system"},
	'O': {"omit-dir-times"}, 'J': {"omit-link-times"}, 'K': {"keep-dirlinks"}, 'k': {"copy-dirlinks"}, 'L': {"copy-links"},
	'C': {"cvs-exclude"}, 'm': {"prune-empty-dirs"}, 'b': {"backup"}, 'I': {"ignore-times"}, 'n': {"dry-run"}, 'q': {"quiet"}, 'v': {"verbose"},
}

// effective reads the options of an rsync command line (without the
// binary and the two operands): --no-X turns X off, --bwlimit=0 is no
// limit, --ignore-errors and --exclude-from=- (lsyncd's) are left out.
func effective(args []string) rsyncRun {
	var r rsyncRun
	set := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "<" && i+1 < len(args): // lsyncd's standard input: its excludes
			if args[i+1] != "" {
				r.excludes = append(r.excludes, strings.Split(args[i+1], "\n")...)
			}
			i++
		case a == "--ignore-errors" || a == "--exclude-from=-" || a == "--bwlimit=0":
		case strings.HasPrefix(a, "--exclude="):
			r.excludes = append(r.excludes, strings.TrimPrefix(a, "--exclude="))
		case strings.HasPrefix(a, "--rsh="): // lsyncd orders ssh's -o options as a Lua table walks them
			w := strings.Fields(a)
			slices.Sort(w)
			set[strings.Join(w, " ")] = true
		case strings.HasPrefix(a, "--no-"):
			delete(set, strings.TrimPrefix(a, "--no-"))
		case strings.HasPrefix(a, "--"):
			set[strings.TrimPrefix(a, "--")] = true
		case strings.HasPrefix(a, "-"):
			for _, c := range a[1:] {
				for _, n := range letters[c] {
					set[n] = true
				}
				if letters[c] == nil {
					set["-"+string(c)] = true
				}
			}
		}
	}
	r.opts = slices.Sorted(mapKeys(set))
	slices.Sort(r.excludes) // excludes alone: their order does not matter
	return r
}

var settingsAssign = regexp.MustCompile(`(?m)^settings\s*=\s*\{`)

// execLine is the start of a command that lsyncd -log Exec logs: the
// binary, then each argument in brackets (see execArgs).
var execLine = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d Exec: (\S+) \[`)

// execArgs reads the bracketed arguments that start at s[0] == '[': each
// ends at "] [", the last at "]\n" (an argument may span lines: lsyncd's
// standard input).
func execArgs(s string) []string {
	var args []string
	for strings.HasPrefix(s, "[") {
		end := strings.Index(s, "] [")
		last := strings.Index(s, "]\n")
		if last >= 0 && (end < 0 || last < end) {
			return append(args, s[1:last])
		}
		if end < 0 {
			return append(args, strings.TrimSuffix(s[1:], "]"))
		}
		args = append(args, s[1:end])
		s = s[end+2:]
	}
	return args
}

// lsyncdStartups runs lsyncd on the config until it has run want startup
// rsyncs (or 10 s have passed) and returns each one's options by "SOURCE
// TARGET". -insist keeps it going when a startup fails (the corpus's hosts
// do not exist).
func lsyncdStartups(t *testing.T, bin, cfg string, want int) map[string]rsyncRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-nodaemon", "-insist", "-log", "Exec", cfg)
	var out testutil.LockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	startups := func() map[string]rsyncRun {
		runs := map[string]rsyncRun{}
		text := out.String()
		for _, m := range execLine.FindAllStringSubmatchIndex(text, -1) {
			args := execArgs(text[m[1]-1:])
			if len(args) < 2 || !strings.HasSuffix(text[m[2]:m[3]], "rsync") || slices.Contains(args, "--files-from=-") {
				continue
			}
			dest := strings.Join(args[len(args)-2:], " ")
			if _, seen := runs[dest]; !seen {
				runs[dest] = effective(args[:len(args)-2])
			}
		}
		return runs
	}
	deadline := time.Now().Add(10 * time.Second)
	runs := startups()
	for len(runs) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		runs = startups()
	}
	if len(runs) < want {
		t.Errorf("lsyncd ran %d startup rsyncs in 10 s, want %d; its output:\n%s", len(runs), want, out.String())
	}
	return runs
}
