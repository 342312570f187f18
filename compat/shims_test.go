package compat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

func shimFileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
}

// runShim executes src with Builtins(env) and returns its globals.
func runShim(t *testing.T, env Env, src string) (starlark.StringDict, error) {
	t.Helper()
	th := &starlark.Thread{Name: "test", Print: func(*starlark.Thread, string) {}}
	th.SetMaxExecutionSteps(1_000_000)
	return starlark.ExecFileOptions(shimFileOptions(), th, "t.py", src, Builtins(env))
}

// evalShim evaluates expr after `os = __compat_import__("os")` (and the
// other shim modules) and returns the Starlark repr of the result.
func evalShim(t *testing.T, env Env, expr string) (string, error) {
	t.Helper()
	src := `os = __compat_import__("os")
socket = __compat_import__("socket")
inspect = __compat_import__("inspect")
r = ` + expr + "\n"
	g, err := runShim(t, env, src)
	if err != nil {
		return "", err
	}
	return g["r"].String(), nil
}

func shimEnv() Env {
	return Env{
		Getenv:   func() map[string]string { return map[string]string{"HOME": "/home/dev/", "USER": "dev", "EMPTY": ""} },
		Cwd:      "/srv/cfg",
		Hostname: "devbox.example.org",
		File:     "conf/inosync.py",
	}
}

func TestShimPathPure(t *testing.T) {
	tests := []struct{ expr, want string }{
		// join
		{`os.path.join("a", "/b")`, `"/b"`},
		{`os.path.join("a", "")`, `"a/"`},
		{`os.path.join("a", "b", "c")`, `"a/b/c"`},
		{`os.path.join("a/", "b")`, `"a/b"`},
		{`os.path.join("", "b")`, `"b"`},
		{`os.path.join("/", "a", "", "b")`, `"/a/b"`},
		{`os.path.join("a")`, `"a"`},
		// dirname / basename
		{`os.path.dirname("/a/b/")`, `"/a/b"`},
		{`os.path.dirname("/a/b")`, `"/a"`},
		{`os.path.dirname("a")`, `""`},
		{`os.path.dirname("//a")`, `"//"`},
		{`os.path.dirname("///a")`, `"///"`},
		{`os.path.dirname("/")`, `"/"`},
		{`os.path.dirname("a//b")`, `"a"`},
		{`os.path.basename("/a/b/")`, `""`},
		{`os.path.basename("/a/b")`, `"b"`},
		{`os.path.basename("a")`, `"a"`},
		// normpath
		{`os.path.normpath("//a")`, `"//a"`},
		{`os.path.normpath("///a")`, `"/a"`},
		{`os.path.normpath("")`, `"."`},
		{`os.path.normpath("/..")`, `"/"`},
		{`os.path.normpath("../a/../..")`, `"../.."`},
		{`os.path.normpath("a/./b/../c/")`, `"a/c"`},
		{`os.path.normpath("//a/b/..")`, `"//a"`},
		{`os.path.normpath("/a//b")`, `"/a/b"`},
		{`os.path.normpath("a/..")`, `"."`},
		{`os.path.normpath(".")`, `"."`},
		// abspath (Cwd = /srv/cfg)
		{`os.path.abspath("x/../y")`, `"/srv/cfg/y"`},
		{`os.path.abspath("")`, `"/srv/cfg"`},
		{`os.path.abspath(".")`, `"/srv/cfg"`},
		{`os.path.abspath("../..")`, `"/"`},
		{`os.path.abspath("/a/./b/")`, `"/a/b"`},
		{`os.path.abspath("//a")`, `"//a"`},
		// splitext / split / isabs
		{`os.path.splitext(".bashrc")`, `(".bashrc", "")`},
		{`os.path.splitext("a/b.tar.gz")`, `("a/b.tar", ".gz")`},
		{`os.path.splitext("a.b/c")`, `("a.b/c", "")`},
		{`os.path.splitext("..x")`, `("..x", "")`},
		{`os.path.splitext("x.")`, `("x", ".")`},
		{`os.path.splitext("/a/..b.c")`, `("/a/..b", ".c")`},
		{`os.path.split("/a/b/")`, `("/a/b", "")`},
		{`os.path.split("/a/b")`, `("/a", "b")`},
		{`os.path.split("a")`, `("", "a")`},
		{`os.path.split("//a")`, `("//", "a")`},
		{`os.path.split("/")`, `("/", "")`},
		{`os.path.split("")`, `("", "")`},
		{`os.path.isabs("/a")`, `True`},
		{`os.path.isabs("a")`, `False`},
		{`os.path.isabs("")`, `False`},
		// expanduser (HOME=/home/dev/ in the snapshot)
		{`os.path.expanduser("~")`, `"/home/dev"`},
		{`os.path.expanduser("~/src")`, `"/home/dev/src"`},
		{`os.path.expanduser("~root/x")`, `"~root/x"`},
		{`os.path.expanduser("a/~")`, `"a/~"`},
		// the same module under its other names
		{`__compat_import__("os.path").join("a", "b")`, `"a/b"`},
		{`__compat_import__("posixpath").basename("/x/y")`, `"y"`},
		{`os.path.sep + os.sep + os.curdir + os.pardir + os.linesep + os.name`, `"//...\nposix"`},
	}
	env := shimEnv()
	for _, tc := range tests {
		got, err := evalShim(t, env, tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

func TestShimExpanduserEdgeCases(t *testing.T) {
	tests := []struct {
		env  map[string]string
		in   string
		want string
	}{
		{map[string]string{"HOME": "/"}, "~", "/"},
		{map[string]string{"HOME": "/"}, "~/a", "/a"},
		{map[string]string{"HOME": ""}, "~", "/"},
		{nil, "~/a", "~/a"}, // no HOME: the password database is not consulted
	}
	for _, tc := range tests {
		snap := tc.env
		env := Env{Getenv: func() map[string]string { return snap }}
		got, err := evalShim(t, env, `os.path.expanduser("`+tc.in+`")`)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + tc.want + `"`; got != want {
			t.Errorf("HOME=%v expanduser(%q) = %s, want %s", tc.env, tc.in, got, want)
		}
	}
}

func TestShimPathStat(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "f.txt"), nil, 0o644))
	must(os.Symlink("sub", filepath.Join(dir, "link")))
	must(os.Symlink("nowhere", filepath.Join(dir, "dangling")))

	env := Env{Cwd: dir}
	q := func(s string) string { return `"` + s + `"` }
	tests := []struct{ expr, want string }{
		{`os.path.exists("f.txt")`, `True`},
		{`os.path.exists("` + dir + `/sub")`, `True`},
		{`os.path.exists("missing")`, `False`},
		{`os.path.exists("")`, `False`},
		{`os.path.exists("dangling")`, `False`},
		{`os.path.isdir("sub")`, `True`},
		{`os.path.isdir("link")`, `True`},
		{`os.path.isdir("f.txt")`, `False`},
		{`os.path.isfile("f.txt")`, `True`},
		{`os.path.isfile("sub")`, `False`},
		{`os.path.isfile("missing")`, `False`},
		{`os.path.realpath("link")`, q(dir + "/sub")},
		{`os.path.realpath("link/../f.txt")`, q(dir + "/f.txt")},
		{`os.path.realpath("` + dir + `/link/")`, q(dir + "/sub")},
		{`os.path.realpath("missing/x/..")`, q(dir + "/missing")},
		{`os.path.realpath("dangling")`, q(dir + "/dangling")},
		{`os.getcwd()`, q(dir)},
	}
	for _, tc := range tests {
		got, err := evalShim(t, env, tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

func TestShimOSAndSocket(t *testing.T) {
	tests := []struct {
		env        Env
		expr, want string
	}{
		{shimEnv(), `os.environ`, `{"EMPTY": "", "HOME": "/home/dev/", "USER": "dev"}`},
		{shimEnv(), `os.environ["USER"]`, `"dev"`},
		{shimEnv(), `os.environ.get("NOPE", "d")`, `"d"`},
		{shimEnv(), `os.getenv("USER")`, `"dev"`},
		{shimEnv(), `os.getenv("EMPTY", "d")`, `""`},
		{shimEnv(), `os.getenv("NOPE")`, `None`},
		{shimEnv(), `os.getenv("NOPE", "d")`, `"d"`},
		{shimEnv(), `os.getenv(key="NOPE", default=3)`, `3`},
		{Env{}, `(os.environ, os.getenv("HOME"), os.getcwd())`, `({}, None, "")`},
		{shimEnv(), `(len(os.uname()), [type(x) for x in os.uname()])`, `(5, ["string", "string", "string", "string", "string"])`},
		{shimEnv(), `socket.gethostname()`, `"devbox.example.org"`},
		{shimEnv(), `socket.getfqdn()`, `"devbox.example.org"`},
		{shimEnv(), `socket.getfqdn("")`, `"devbox.example.org"`},
		{shimEnv(), `socket.getfqdn("other.example.org")`, `"other.example.org"`},
		{shimEnv(), `inspect.getfile(inspect.currentframe())`, `"conf/inosync.py"`},
		{shimEnv(), `type(inspect.currentframe())`, `"frame"`},
		{shimEnv(), `__file__`, `"conf/inosync.py"`},
		{shimEnv(), `(xrange(3), unicode(5), long("7"))`, `(range(3), "5", 7)`},
		{shimEnv(), `__compat_import__("sys").argv`, `["inosync"]`},
		{shimEnv(), `(__compat_import__("sys").version, __compat_import__("sys").platform)`, `("2.7.18 (inosync compat)", "linux2")`},
	}
	for _, tc := range tests {
		got, err := evalShim(t, tc.env, tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

func TestShimErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`os = __compat_import__("nosuchmod")`,
			`import nosuchmod: no such module (a config can import os, os.path, socket, inspect, or a NAME.py beside it)`},
		{`p = __compat_import__("subprocess")`,
			`import subprocess: no such module (a config can import os, os.path, socket, inspect, or a NAME.py beside it); inosync configs cannot run programs or reach the network`},
		{`p = __compat_import__("urllib.request")`,
			`import urllib.request: no such module (a config can import os, os.path, socket, inspect, or a NAME.py beside it); inosync configs cannot run programs or reach the network`},
		{`p = __compat_import__("../etc/x")`,
			`import "../etc/x": not a module name (a config can import os, os.path, socket, inspect, or a NAME.py beside it)`},
		{`__compat_import_star__("os.path")`,
			`from os.path import *: not supported in inosync configs; import the names you need`},
		{`open("x")`, `open: inosync configs cannot read or write files`},
		{`file("x", "w")`, `file: inosync configs cannot read or write files`},
		{`eval("1")`, `eval: inosync configs cannot evaluate code from strings`},
		{`execfile("other.py")`, `execfile: inosync configs cannot run other files; import a NAME.py beside the config instead`},
		{`raw_input()`, `raw_input: inosync configs cannot read from the terminal`},
		{`x = globals()`, `globals: inosync configs cannot inspect or change their namespaces`},
		{`inspect = __compat_import__("inspect")
inspect.getfile(1)`, `getfile: got int, want frame (inosync configs support only inspect.getfile(inspect.currentframe()))`},
		{`os = __compat_import__("os")
os.system("ls")`, `module has no .system field or method`},
	}
	for _, tc := range tests {
		_, err := runShim(t, shimEnv(), tc.src)
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.src, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.src, err.Error(), tc.want)
		}
	}

	// ImportError is reachable through the EvalError.
	_, err := runShim(t, shimEnv(), `x = __compat_import__("shutil")`)
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Module != "shutil" {
		t.Errorf("errors.As(%v, *ImportError) = %v, %+v", err, errors.As(err, &ie), ie)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "cannot run programs") {
		t.Errorf("shutil error = %q, want one line about running programs", err)
	}
	// Everything in the dict is frozen.
	_, err = runShim(t, shimEnv(), `os = __compat_import__("os")
os.environ["X"] = "y"`)
	if err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("assigning to os.environ: err = %v, want frozen", err)
	}
}

func TestShimLocalAndTry(t *testing.T) {
	var calls []string
	helper := &starlarkstruct.Module{Name: "helper", Members: starlark.StringDict{"NODE": starlark.String("dev@box")}}
	env := shimEnv()
	env.Local = func(_ *starlark.Thread, name string) (starlark.Value, error) {
		calls = append(calls, name)
		switch name {
		case "helper":
			return helper, nil
		case "broken":
			return nil, errors.New("broken.py:1:1: got import, want primary expression")
		}
		return nil, nil
	}
	src := `
t1 = __compat_try__("os", "os.path", "socket", "inspect", "helper")
t2 = __compat_try__("os", "missing")
t3 = __compat_try__("subprocess")
t4 = __compat_try__("broken")
t5 = __compat_try__(1)
t6 = __compat_try__("../x")
helper = __compat_import__("helper")
node = helper.NODE
node2 = __compat_import__("helper").NODE
`
	g, err := runShim(t, env, src)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, k := range []string{"t1", "t2", "t3", "t4", "t5", "t6", "node", "node2"} {
		got = append(got, k+"="+g[k].String())
	}
	want := `t1=True t2=False t3=False t4=False t5=False t6=False node="dev@box" node2="dev@box"`
	if s := strings.Join(got, " "); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
	// helper is resolved once; names that are not module names never reach Local.
	if s := strings.Join(calls, ","); s != "helper,missing,subprocess,broken" {
		t.Errorf("Local calls = %s", s)
	}

	_, err = runShim(t, env, `b = __compat_import__("broken")`)
	if want := "import broken: broken.py:1:1: got import, want primary expression"; err == nil || err.Error() != want {
		t.Errorf("import broken: err = %v, want %q", err, want)
	}
	_, err = runShim(t, env, `m = __compat_import__("missing")`)
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Module != "missing" {
		t.Errorf("import missing: err = %v, want *ImportError", err)
	}
}

func TestShimBuiltinsFresh(t *testing.T) {
	a, b := Builtins(shimEnv()), Builtins(shimEnv())
	if a["__compat_import__"] == b["__compat_import__"] {
		t.Error("Builtins returned the same __compat_import__ twice")
	}
	for _, name := range []string{"__compat_import__", "__compat_import_star__", "__compat_try__", "xrange", "unicode",
		"open", "file", "execfile", "eval", "exec", "input", "raw_input", "compile", "__import__", "reload", "globals", "locals", "vars"} {
		if _, ok := a[name]; !ok {
			t.Errorf("Builtins lacks %s", name)
		}
	}
	if _, ok := Builtins(Env{})["__file__"]; ok {
		t.Error("__file__ predeclared with an empty Env.File")
	}
}

// TestShimCorpusShapes runs the import patterns of corpus r07 and r08 as the
// rewriter emits them.
func TestShimCorpusShapes(t *testing.T) {
	env := Env{Cwd: "/root", File: "/etc/inosync/r08.py"}
	g, err := runShim(t, env, `os = __compat_import__("os")
inspect = __compat_import__("inspect")
here = os.path.abspath(os.path.dirname(__file__))
confdir = os.path.dirname(inspect.getfile(inspect.currentframe()))
excludeFile = os.path.join(confdir, "rsync-exclude.txt")
rpath = os.path.basename(os.path.join("/tmp/root", "src2"))
`)
	if err != nil {
		t.Fatal(err)
	}
	got := g["here"].String() + " " + g["excludeFile"].String() + " " + g["rpath"].String()
	if want := `"/etc/inosync" "/etc/inosync/rsync-exclude.txt" "src2"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
