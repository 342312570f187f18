// Package compat turns the Python that people really wrote in inosync
// configs into Starlark that go.starlark.net accepts, and provides the
// read-only shim modules (os, os.path, socket, inspect) such configs import.
//
// # Rewrites
//
// [Rewrite] applies these rewrites of the Python 2 (and some Python 3)
// constructs found in old inosync configs:
//
//  1. Imports become calls of the predeclared builtin __compat_import__,
//     which returns a module value:
//     "import os" → `os = __compat_import__("os")`;
//     "import os.path" → `os = __compat_import__("os")` (binds the top package);
//     "import os.path as p" → `p = __compat_import__("os.path")`;
//     "import os, inspect" → both assignments on one line, joined by "; ";
//     "from os.path import join, dirname as d" →
//     `join = __compat_import__("os.path").join; d = __compat_import__("os.path").dirname`;
//     "from x import *" → `__compat_import_star__("x")` (the builtin rejects it).
//     The parenthesised form may span lines: all assignments go on the first
//     line, which then ends in a backslash continuation; the statement's
//     text on the later lines becomes spaces (middle lines end in a
//     backslash too), so text after the statement keeps its place.
//     Indented imports and imports followed by "; stmt" or a comment work.
//     An import statement that does not parse is left alone.
//  2. try/except/else/finally: "try:" → `if __compat_try__("m1", ...):`
//     where m1... are the modules named by the import statements inside
//     the try body (nested blocks included; "from a.b import c" names
//     "a.b"); the first except clause (any form) → "else:"; any further
//     except clause → "if False:"; the try's own "else:" →
//     `if __compat_try__(...same names...):`; "finally:" → "if True:".
//     A body on the same line ("try: import json") keeps working. The name
//     an except clause binds ("except E as e:", "except E, e:") is dropped.
//  3. Python 2 print statement: a statement starting with the name print
//     followed by a name, number, string, "{", "-", "+", "~", "`" or ">>"
//     becomes a call: `print "a", b` → `print("a", b)`; a trailing comma is
//     dropped (`print x,` → `print(x)`); `print >>f, x` → `print(x)`; a
//     lone print (or `print >>f`) → `print("")`. `print (x)` is left alone.
//  4. String prefixes: u/U are dropped, R/B are lowered and br becomes rb:
//     `u"x"` → `"x"`, `ur"x"` → `r"x"`, `BR"x"` → `rb"x"`.
//  5. Escapes in non-raw literals, kept as Python 2 reads them: an escape
//     Starlark rejects (`\.`, `\d`, `\ `, `\8`, and `\u`, `\U`, `\N` outside
//     u-strings) gets its backslash doubled: `"\.svn"` → `"\\.svn"`.
//     Backslash-newline stays (Starlark accepts it); in a backslash-CR-LF
//     the CR is removed.
//  6. `<>` → `!=`.
//  7. Numbers: `0755` → `0o755` (0 and 00 stay), the long suffix goes:
//     `10L` → `10`, `0x1fL` → `0x1f`.
//  8. `a is not b` → `a != b`, `a is b` → `a == b`.
//  9. Adjacent string literals (also across lines inside brackets) are
//     joined: `"a" "b"` → `("a" + "b")`; when a newline or comment
//     separates two literals, " +" goes right after the first one.
//  10. Chained comparisons (<, >, ==, !=, <=, >=, <>, in, not in, is,
//     is not): `a < b < c` → `(a < b and b < c)`, duplicating the text of
//     the middle operand (as rewritten). Operands are delimited at their
//     bracket depth by brackets, ",", ":", "=", augmented assignments, and,
//     or, unary not, if, else, lambda, return, for, the in of a for clause,
//     other keywords and the statement's ends. A chain whose middle operand
//     spans lines is left for Starlark to report.
//  11. Integer division: `/` between two integer literals → `//`
//     (`1024/8` → `1024//8`), unless the left literal follows *, /, //, %
//     or ** (`a * 3/2` is `(a*3)/2`) or the right one is followed by **.
//
// Rewrite works on a small Python tokenizer and a list of non-overlapping
// text edits. It never adds or removes a newline, so every line keeps its
// number, and the [Result] carries per-line column maps back to the
// original text ([Result.Orig]). Nothing inside a string literal or a
// comment is rewritten, except by the string rewrites (4, 5, 9)
// themselves. Names Starlark lacks (True/False/None included) are never
// rewritten; an unterminated string is passed through untouched.
//
// # Shims
//
// [Builtins] returns the predeclared names that rewritten configs need: the
// import builtins the rewrites call, the shim modules those return, and
// stand-ins for Python builtins that Starlark lacks (some only say why a
// config cannot use them).
package compat
