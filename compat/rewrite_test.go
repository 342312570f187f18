package compat

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

func rwFileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
}

// rwCases are input → exact output; every output must parse.
var rwCases = []struct{ name, in, out string }{
	// 1. imports
	{"import", "import os", `os = __compat_import__("os")`},
	{"import dotted", "import os.path", `os = __compat_import__("os")`},
	{"import as", "import os.path as p", `p = __compat_import__("os.path")`},
	{"import list", "import os, inspect\n", "os = __compat_import__(\"os\"); inspect = __compat_import__(\"inspect\")\n"},
	{"from import", "from os.path import join, dirname as d",
		`join = __compat_import__("os.path").join; d = __compat_import__("os.path").dirname`},
	{"from import parens multiline", "from os import (path,  # c\n    environ)\nx = 1\n",
		"path = __compat_import__(\"os\").path; environ = __compat_import__(\"os\").environ \\\n            \nx = 1\n"},
	{"from import parens three lines then stmt", "from os import (path,\n\n    environ); x = 1\n",
		"path = __compat_import__(\"os\").path; environ = __compat_import__(\"os\").environ \\\n\\\n            ; x = 1\n"},
	{"from import parens one line", "from os import (path, environ,)",
		`path = __compat_import__("os").path; environ = __compat_import__("os").environ`},
	{"import backslash", "import os, \\\n  sys\n",
		"os = __compat_import__(\"os\"); sys = __compat_import__(\"sys\") \\\n     \n"},
	{"from import star", "from x import *", `__compat_import_star__("x")`},
	{"relative from import", "from . import a", `a = __compat_import__(".").a`},
	{"indented import with comment", "if True:\n    import os  # hi\n", "if True:\n    os = __compat_import__(\"os\")  # hi\n"},
	{"import then stmt", "import os; x = os\n", "os = __compat_import__(\"os\"); x = os\n"},
	{"import in def", "def f():\n\timport os\n\treturn os\n", "def f():\n\tos = __compat_import__(\"os\")\n\treturn os\n"},

	// 2. try
	{"try full",
		"try:\n    import json\n    from a.b import c\nexcept ImportError:\n    json = None\nexcept (A, B) as e:\n    pass\nelse:\n    x = 1\nfinally:\n    y = 2\n",
		"if __compat_try__(\"json\", \"a.b\"):\n    json = __compat_import__(\"json\")\n    c = __compat_import__(\"a.b\").c\nelse:\n    json = None\nif False:\n    pass\nif __compat_try__(\"json\", \"a.b\"):\n    x = 1\nif True:\n    y = 2\n"},
	{"try same line", "try: import json\nexcept: json = None\n",
		"if __compat_try__(\"json\"): json = __compat_import__(\"json\")\nelse: json = None\n"},
	{"try no imports, py2 except", "try:\n  x = 1\nexcept E, e:\n  pass\n", "if __compat_try__():\n  x = 1\nelse:\n  pass\n"},
	{"try finally", "try:\n  x = 1\nfinally:\n  y = 1\n", "if __compat_try__():\n  x = 1\nif True:\n  y = 1\n"},
	{"try nested in if, if-else untouched",
		"if a:\n  try:\n    import os.path\n  except:\n    pass\nelse:\n  pass\n",
		"if a:\n  if __compat_try__(\"os.path\"):\n    os = __compat_import__(\"os\")\n  else:\n    pass\nelse:\n  pass\n"},
	{"try except multiline header", "try:\n  import a\nexcept (A,\n        B):\n  pass\n",
		"if __compat_try__(\"a\"):\n  a = __compat_import__(\"a\")\nelse: \\\n           \n  pass\n"},

	// 3. print
	{"print alone", "print\n", "print(\"\")\n"},
	{"print args", `print "a", b`, `print("a", b)`},
	{"print trailing comma", "print x,  # c\n", "print(x)  # c\n"},
	{"print redirect", "print >>sys.stderr, x", "print(x)"},
	{"print redirect alone", "print >>sys.stderr", `print("")`},
	{"print call untouched", `print ("x %s" % y)`, `print ("x %s" % y)`},
	{"print function untouched", `print("x")`, `print("x")`},
	{"print percent", `print "%s/%s" % (a, b)`, `print("%s/%s" % (a, b))`},
	{"print after header and semicolon", "if x: print \"y\"; print \"z\",\n", "if x: print(\"y\"); print(\"z\")\n"},
	{"print continued", "print \"a\", \\\n  b\n", "print(\"a\", \\\n  b)\n"},

	// 4. prefixes
	{"prefixes", `x = u"x" + U'y' + ur"z\d" + R"a" + BR"b" + b"c" + r"d"`,
		`x = "x" + 'y' + r"z\d" + r"a" + rb"b" + b"c" + r"d"`},
	{"triple u", `x = u"""a"""`, `x = """a"""`},

	// 5. escapes
	{"escapes", `x = "\.svn" + '\d' + "\ " + "\\ok\n\t\'\"\a\b\f\r\v\101\x41"`,
		`x = "\\.svn" + '\\d' + "\\ " + "\\ok\n\t\'\"\a\b\f\r\v\101\x41"`},
	{"unicode escapes", `x = "\u00e9" + u"\u00e9" + u"\U000000e9" + "\N" + "\8"`,
		`x = "\\u00e9" + "\u00e9" + "\U000000e9" + "\\N" + "\\8"`},
	{"raw untouched", `x = r"\." + r'\d'`, `x = r"\." + r'\d'`},
	{"backslash newline in triple", "x = \"\"\"a\\\nb\\.c\"\"\"\n", "x = \"\"\"a\\\nb\\\\.c\"\"\"\n"},
	{"backslash CRLF", "x = 'a\\\r\nb'\r\n", "x = 'a\\\nb'\r\n"},
	{"comment untouched", "x = 1  # \\. 0755 <> \"a\" \"b\" is\n", "x = 1  # \\. 0755 <> \"a\" \"b\" is\n"},

	// 6. <>
	{"not equal", "if 1 <> 2: pass", "if 1 != 2: pass"},

	// 7. numbers
	{"numbers", "x = 0755 + 00 + 0 + 10L + 0x1fL + 1.5 + 1e5 + 0o7 + 0755L + 0l",
		"x = 0o755 + 00 + 0 + 10 + 0x1f + 1.5 + 1e5 + 0o7 + 0o755 + 0"},

	// 8. is
	{"is", "x = a is not None and b is None", "x = a != None and b == None"},

	// 9. implicit concatenation
	{"concat", `x = "a" "b"`, `x = ("a" + "b")`},
	{"concat multiline", "x = (\"a\"\n     u\"b\"  # c\n     'c')\n", "x = ((\"a\" +\n     \"b\" +  # c\n     'c'))\n"},
	{"concat percent", `x = "a" "%s" % y`, `x = ("a" + "%s") % y`},
	{"concat continued", "s = \"a\" \\\n  \"b\"\n", "s = (\"a\" + \\\n  \"b\")\n"},

	// 10. chained comparisons
	{"chain", "x = a < b < c", "x = (a < b and b < c)"},
	{"chain long", "x = a < b <= c == d", "x = (a < b and b <= c and c == d)"},
	{"chain nested contexts", "y = f(1 < x <= 3, 2) if 0 == a == b else [v for v in w if 1 < v < 3]",
		"y = f((1 < x and x <= 3), 2) if (0 == a and a == b) else [v for v in w if (1 < v and v < 3)]"},
	{"chain not in", "y = not a in b not in c", "y = not (a in b and b not in c)"},
	{"chain is", "y = a is b is not c", "y = (a == b and b != c)"},
	{"chain <>", "y = a <> b <> c", "y = (a != b and b != c)"},
	{"chain operand expr", "if x.y(1) < f(a)[0] + 1 < g: pass", "if (x.y(1) < f(a)[0] + 1 and f(a)[0] + 1 < g): pass"},
	{"chain rewritten middle", `x = a < "p" "q" < c`, `x = (a < ("p" + "q") and ("p" + "q") < c)`},
	{"chain middle octal", "x = 0 < 0755 < y", "x = (0 < 0o755 and 0o755 < y)"},
	{"chain in print", "print a < b < c", "print((a < b and b < c))"},
	{"chain in lambda", "f = lambda v: 0 < v < 9", "f = lambda v: (0 < v and v < 9)"},
	{"for in not a comparison", "x = [a for a in b < c < d]", "x = [a for a in (b < c and c < d)]"},
	{"single comparison untouched", "x = a < b and c in d", "x = a < b and c in d"},

	// 11. integer division
	{"int division", "x = 1024/8 + a/8 + 3 / 2 + 1.0/2 + 0x10/2L", "x = 1024//8 + a/8 + 3 // 2 + 1.0/2 + 0x10//2"},
	{"int division precedence", "x = a * 3/2 + 4/2 * 2", "x = a * 3/2 + 4//2 * 2"},

	// 12. names untouched
	{"names untouched", "x = True or False or None", "x = True or False or None"},
	{"plain starlark untouched", "wpaths = [\"/srv/\"]\nrnodes = [\"web1:\"]\n", "wpaths = [\"/srv/\"]\nrnodes = [\"web1:\"]\n"},
}

// rwLeft are rewritten inputs whose output Starlark rejects on purpose.
var rwLeft = []struct{ name, in, out string }{
	{"chain middle spans lines", "x = (a < (b\n) < c)\n", "x = (a < (b\n) < c)\n"},
	{"int division before power", "x = 4/2**2", "x = 4/2**2"},
	{"except binding dropped", "try:\n  pass\nexcept E as e:\n  print e\n", "if __compat_try__():\n  pass\nelse:\n  print(e)\n"},
}

// rwPassThrough are inputs left for Starlark to report.
var rwPassThrough = []string{
	"x = 'abc\n",
	"x = \"\"\"abc\n",
	"x = u'abc\\.\n",
	"import\n",
	"from os import\n",
	"x = `y`\n",
	"",
	"\n\n",
}

func TestRewrite(t *testing.T) {
	for _, tc := range rwCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Rewrite("t.py", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.Src); got != tc.out {
				t.Errorf("Rewrite(%q)\n got %q\nwant %q", tc.in, got, tc.out)
			}
			if _, err := rwFileOptions().Parse("t.py", res.Src, 0); err != nil {
				t.Errorf("output does not parse: %v\n%s", err, res.Src)
			}
			if tc.in != tc.out && len(res.Notes) == 0 {
				t.Errorf("no notes for a rewrite")
			}
			if tc.in == tc.out && len(res.Notes) != 0 {
				t.Errorf("notes without a rewrite: %v", res.Notes)
			}
		})
	}
	for _, tc := range rwLeft {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Rewrite("t.py", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.Src); got != tc.out {
				t.Errorf("Rewrite(%q)\n got %q\nwant %q", tc.in, got, tc.out)
			}
		})
	}
	for _, in := range rwPassThrough {
		t.Run("pass through "+in, func(t *testing.T) {
			res, err := Rewrite("t.py", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Src) != in {
				t.Errorf("got %q, want it unchanged", res.Src)
			}
		})
	}
}

func TestRewriteNotes(t *testing.T) {
	res, err := Rewrite("t.py", []byte("x = 1\nif y:\n\tz = 0755 <> u\"\\d\"\nimport os.path\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Note{
		{3, 6, "octal literal 0755"},
		{3, 11, "<> operator"},
		{3, 14, "string prefix u"},
		{3, 16, `escape \d`},
		{4, 1, "import os.path"},
	}
	if len(res.Notes) != len(want) {
		t.Fatalf("notes %v, want %v", res.Notes, want)
	}
	for i := range want {
		if res.Notes[i] != want[i] {
			t.Errorf("note %d: %v, want %v", i, res.Notes[i], want[i])
		}
	}
}

func rwPredeclared() starlark.StringDict {
	return starlark.StringDict{
		"__compat_try__": starlark.NewBuiltin("__compat_try__", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.True, nil
		}),
		"__compat_import__": starlark.NewBuiltin("__compat_import__", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var name string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &name); err != nil {
				return nil, err
			}
			return starlark.String("module " + name), nil
		}),
	}
}

func rwExec(t *testing.T, src string) (starlark.StringDict, string, *Result, error) {
	t.Helper()
	res, err := Rewrite("t.py", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	th := &starlark.Thread{Name: "t", Print: func(_ *starlark.Thread, msg string) { out.WriteString(msg + "\n") }}
	g, err := starlark.ExecFileOptions(rwFileOptions(), th, "t.py", res.Src, rwPredeclared())
	return g, out.String(), res, err
}

func TestRewriteEval(t *testing.T) {
	cases := []struct{ name, src, global, want, print string }{
		{"int division", "x = 1024/8", "x", "128", ""},
		{"concat percent", `x = "a%s" "b%s" % (1, 2)`, "x", `"a1b2"`, ""},
		{"chain true", "x = 1 < 2 < 3", "x", "True", ""},
		{"chain false", "x = 1 < 3 < 2", "x", "False", ""},
		{"chain false left", "x = 2 < 1 < 3", "x", "False", ""},
		{"chain in", `x = "a" in "abc" in ["abc"]`, "x", "True", ""},
		{"chain is", "y = None\nx = y is None is not 1", "x", "True", ""},
		{"escape", `x = "\.svn"`, "x", `"\\.svn"`, ""},
		{"octal", "x = 0755", "x", "493", ""},
		{"long", "x = 10L", "x", "10", ""},
		{"print", "print \"a\", 1,\nprint\nprint >>f, \"b\"\nx = 0", "x", "0", "a 1\n\nb\n"},
		{"try", "try:\n  import os\nexcept ImportError:\n  os = None\nx = os", "x", `"module os"`, ""},
		{"import as", "import os.path as x", "x", `"module os.path"`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, out, _, err := rwExec(t, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := g[tc.global].String(); got != tc.want {
				t.Errorf("%s = %s, want %s", tc.global, got, tc.want)
			}
			if out != tc.print {
				t.Errorf("printed %q, want %q", out, tc.print)
			}
			if tc.name == "escape" && string(g["x"].(starlark.String)) != `\.svn` {
				t.Errorf("x = %q", g["x"])
			}
			if tc.name == "int division" {
				if _, ok := g["x"].(starlark.Int); !ok {
					t.Errorf("x is %s, want int", g["x"].Type())
				}
			}
		})
	}
}

// rwCol returns the 1-based rune column of the first occurrence of sub in
// line (1-based) of src.
func rwCol(t *testing.T, src string, line int, sub string) int32 {
	t.Helper()
	l := strings.Split(src, "\n")[line-1]
	i := strings.Index(l, sub)
	if i < 0 {
		t.Fatalf("%q not in %q", sub, l)
	}
	return int32(len([]rune(l[:i])) + 1)
}

func TestRewritePositions(t *testing.T) {
	t.Run("resolve error after print", func(t *testing.T) {
		src := "x = 1\nprint \"é\", \"x\"  ; y = undefined_name\n"
		res, err := Rewrite("t.py", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		_, err = starlark.ExecFileOptions(rwFileOptions(), &starlark.Thread{}, "t.py", res.Src, nil)
		var el resolve.ErrorList
		if !errors.As(err, &el) {
			t.Fatalf("got %v, want a resolve error", err)
		}
		p := el[0].Pos
		l, c := res.Orig(p.Line, p.Col)
		if l != 2 || c != rwCol(t, src, 2, "undefined_name") {
			t.Errorf("mapped %d:%d to %d:%d, want 2:%d", p.Line, p.Col, l, c, rwCol(t, src, 2, "undefined_name"))
		}
		if p.Col == c {
			t.Errorf("test does not exercise a column shift")
		}
	})
	t.Run("runtime error after octal", func(t *testing.T) {
		src := "x = 0755 + \"s\"\n"
		_, _, res, err := rwExec(t, src)
		var ee *starlark.EvalError
		if !errors.As(err, &ee) {
			t.Fatalf("got %v, want an EvalError", err)
		}
		p := ee.CallStack[len(ee.CallStack)-1].Pos
		l, c := res.Orig(p.Line, p.Col)
		if l != 1 || c != rwCol(t, src, 1, "+") || p.Col == c {
			t.Errorf("mapped %d:%d to %d:%d, want 1:%d", p.Line, p.Col, l, c, rwCol(t, src, 1, "+"))
		}
	})
	t.Run("syntax error after import", func(t *testing.T) {
		src := "import os; x = )\n"
		res, err := Rewrite("t.py", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		_, err = rwFileOptions().Parse("t.py", res.Src, 0)
		var se syntax.Error
		if !errors.As(err, &se) {
			t.Fatalf("got %v, want a syntax error", err)
		}
		l, c := res.Orig(se.Pos.Line, se.Pos.Col)
		if l != 1 || c != rwCol(t, src, 1, ")") {
			t.Errorf("mapped %d:%d to %d:%d, want 1:%d", se.Pos.Line, se.Pos.Col, l, c, rwCol(t, src, 1, ")"))
		}
	})
	t.Run("inserted text maps to insertion point", func(t *testing.T) {
		res, err := Rewrite("t.py", []byte("a\nx = 1 < y < 3\n"))
		if err != nil {
			t.Fatal(err)
		}
		// "x = (1 < y and y < 3)": col 5 is the inserted "(", cols 11-17 " and y".
		for _, c := range []struct{ out, orig int32 }{{0, 0}, {1, 1}, {4, 4}, {5, 5}, {6, 5}, {10, 9}, {11, 10}, {16, 10}, {18, 11}, {20, 13}, {21, 14}, {22, 14}, {23, 15}} {
			if l, got := res.Orig(2, c.out); l != 2 || got != c.orig {
				t.Errorf("Orig(2, %d) = %d:%d, want 2:%d", c.out, l, got, c.orig)
			}
		}
		if l, c := res.Orig(1, 1); l != 1 || c != 1 {
			t.Errorf("untouched line: %d:%d", l, c)
		}
		if l, c := res.Orig(9, 4); l != 9 || c != 4 {
			t.Errorf("line past the end: %d:%d", l, c)
		}
	})
}

func TestRewriteKeepsLines(t *testing.T) {
	inputs := map[string]string{}
	for _, tc := range rwCases {
		inputs[tc.name] = tc.in
	}
	for _, tc := range rwLeft {
		inputs[tc.name] = tc.in
	}
	for i, in := range rwPassThrough {
		inputs["pass through "+string(rune('a'+i))] = in
	}
	files, _ := filepath.Glob("/work/shared/compat-corpus/*.py")
	if len(files) == 0 {
		t.Log("no corpus files: only the table inputs")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = string(b)
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			res, err := Rewrite(name, []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := bytes.Count(res.Src, []byte("\n")), strings.Count(in, "\n"); got != want {
				t.Errorf("%d newlines, want %d", got, want)
			}
			if strings.HasSuffix(name, ".py") {
				if _, err := rwFileOptions().Parse(name, res.Src, 0); err != nil {
					t.Errorf("corpus file does not parse after rewrite: %v", err)
				}
			}
		})
	}
}

func FuzzRewrite(f *testing.F) {
	for _, tc := range rwCases {
		f.Add(tc.in)
	}
	for _, in := range rwPassThrough {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		res, err := Rewrite("f.py", []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(res.Src, []byte("\n")) != strings.Count(in, "\n") {
			t.Fatalf("line count changed: %q -> %q", in, res.Src)
		}
		for l := int32(1); l <= int32(strings.Count(in, "\n"))+1; l++ {
			for c := int32(0); c < 5; c++ {
				if ol, _ := res.Orig(l, c); ol != l {
					t.Fatalf("line moved")
				}
			}
		}
	})
}
