package compat

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"golang.org/x/sys/unix"
)

// Env is what the shims may see of the outside world; config.Load fills it
// once per load. The shims never read the process environment, the process
// working directory or the host name themselves.
type Env struct {
	// Getenv returns a snapshot of the environment (os.environ). It is
	// called once per Builtins call; nil means an empty environment.
	Getenv func() map[string]string
	// Cwd is the start-up directory: os.getcwd() returns it, and
	// os.path.abspath and the stat-based os.path functions resolve
	// relative paths against it. When empty, relative paths stay relative
	// (abspath only normalizes them) and stat calls use the process
	// working directory.
	Cwd string
	// Hostname is returned by socket.gethostname and socket.getfqdn.
	Hostname string
	// File is __file__ of the config being loaded (the path as given to
	// -c); inspect.getfile(inspect.currentframe()) returns it, and
	// Builtins predeclares __file__ with it when it is not empty.
	File string
	// Local resolves `import NAME` of a NAME.py beside the config (the
	// loader implements it). It returns (nil, nil) when there is no such
	// file. Builtins only passes it names made of dot-separated Python
	// identifiers, and remembers each successful result, so a module that
	// is both tested by __compat_try__ and imported is resolved once.
	Local func(thread *starlark.Thread, name string) (starlark.Value, error)
}

// ImportError is returned (wrapped in the Starlark EvalError) when an import
// names an unknown module. Find it with errors.As(err, &ie) where ie is an
// *ImportError.
type ImportError struct{ Module string }

// importHint lists what a config may import; it ends every ImportError.
const importHint = "(a config can import os, os.path, socket, inspect, or a NAME.py beside it)"

// Error returns a one-line message such as
// `import foo: no such module (a config can import os, os.path, socket, inspect, or a NAME.py beside it)`.
// For modules that would run programs or use the network (subprocess,
// shutil, urllib, ...) it adds that inosync configs cannot do either.
func (e *ImportError) Error() string {
	if !validModuleName(e.Module) {
		return fmt.Sprintf("import %q: not a module name %s", e.Module, importHint)
	}
	msg := fmt.Sprintf("import %s: no such module %s", e.Module, importHint)
	if escapeModule(e.Module) {
		msg += "; inosync configs cannot run programs or reach the network"
	}
	return msg
}

// escapeModule reports whether name is (inside) a standard or well-known
// module whose purpose is to run programs or talk to the network.
func escapeModule(name string) bool {
	top, _, _ := strings.Cut(name, ".")
	switch top {
	case "subprocess", "shutil", "commands", "pty", "popen2", "pexpect", "sh",
		"multiprocessing", "threading", "thread", "signal", "platform",
		"urllib", "urllib2", "urllib3", "urlparse", "httplib", "http", "requests",
		"ftplib", "smtplib", "telnetlib", "poplib", "imaplib", "nntplib", "xmlrpclib", "xmlrpc",
		"ssl", "select", "asyncore", "asynchat", "asyncio", "SocketServer", "socketserver",
		"paramiko", "fabric", "webbrowser":
		return true
	}
	return false
}

// validModuleName reports whether name is one or more Python identifiers
// joined by dots (and so cannot name a path outside the config directory).
func validModuleName(name string) bool {
	if name == "" {
		return false
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return false
		}
		for i, c := range part {
			switch {
			case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			case c >= '0' && c <= '9' && i > 0:
			default:
				return false
			}
		}
	}
	return true
}

// Builtins returns a fresh dict of the predeclared names that configs
// rewritten by this package need:
//
//   - __compat_import__(name) returns the shim module os, os.path
//     (also as posixpath), socket, inspect or sys, or else the module
//     Env.Local finds; otherwise it fails with an *ImportError.
//   - __compat_import_star__(name) always fails: star imports are not supported.
//   - __compat_try__(name, ...) reports whether every name would import;
//     it never fails.
//   - xrange (= range), unicode (= str) and long (= int), and __file__
//     (Env.File) when Env.File is not empty.
//   - open, file, execfile, eval, exec, input, raw_input, compile,
//     __import__, reload, globals, locals and vars, which always fail with
//     a message that says why a config cannot use them.
//
// All returned values are frozen. The modules are built anew on each call.
func Builtins(env Env) starlark.StringDict {
	mods := newModules(env)
	imp := &importer{env: env, mods: mods, local: map[string]starlark.Value{}}

	d := starlark.StringDict{
		"__compat_import__":      starlark.NewBuiltin("__compat_import__", imp.importBuiltin),
		"__compat_import_star__": starlark.NewBuiltin("__compat_import_star__", importStar),
		"__compat_try__":         starlark.NewBuiltin("__compat_try__", imp.tryBuiltin),
		"xrange":                 starlark.Universe["range"],
		"unicode":                starlark.Universe["str"],
		"long":                   starlark.Universe["int"],
	}
	if env.File != "" {
		d["__file__"] = starlark.String(env.File)
	}
	refusals := []struct{ name, why string }{
		{"open", "inosync configs cannot read or write files"},
		{"file", "inosync configs cannot read or write files"},
		{"execfile", "inosync configs cannot run other files; import a NAME.py beside the config instead"},
		{"eval", "inosync configs cannot evaluate code from strings"},
		{"exec", "inosync configs cannot evaluate code from strings"},
		{"compile", "inosync configs cannot evaluate code from strings"},
		{"input", "inosync configs cannot read from the terminal"},
		{"raw_input", "inosync configs cannot read from the terminal"},
		{"__import__", "not supported in inosync configs; use an import statement " + importHint},
		{"reload", "inosync configs cannot reload modules"},
		{"globals", "inosync configs cannot inspect or change their namespaces"},
		{"locals", "inosync configs cannot inspect or change their namespaces"},
		{"vars", "inosync configs cannot inspect or change their namespaces"},
	}
	for _, r := range refusals {
		msg := r.name + ": " + r.why
		d[r.name] = starlark.NewBuiltin(r.name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return nil, errors.New(msg)
		})
	}
	d.Freeze()
	return d
}

// modules holds the shim modules of one Builtins call, by import name.
type modules map[string]*starlarkstruct.Module

// importer implements __compat_import__ and __compat_try__ for one Builtins call.
type importer struct {
	env  Env
	mods modules

	mu    sync.Mutex
	local map[string]starlark.Value // successful Env.Local results
}

// resolve returns the module for name. Errors are *ImportError, or an error
// of Env.Local wrapped with the module name.
func (imp *importer) resolve(thread *starlark.Thread, name string) (starlark.Value, error) {
	if m, ok := imp.mods[name]; ok {
		return m, nil
	}
	if !validModuleName(name) || imp.env.Local == nil {
		return nil, &ImportError{Module: name}
	}
	imp.mu.Lock()
	v, ok := imp.local[name]
	imp.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := imp.env.Local(thread, name)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", name, err)
	}
	if v == nil {
		return nil, &ImportError{Module: name}
	}
	v.Freeze()
	imp.mu.Lock()
	imp.local[name] = v
	imp.mu.Unlock()
	return v, nil
}

func (imp *importer) importBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name); err != nil {
		return nil, err
	}
	return imp.resolve(thread, name)
}

func (imp *importer) tryBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return starlark.False, nil
	}
	for _, a := range args {
		name, ok := starlark.AsString(a)
		if !ok {
			return starlark.False, nil
		}
		if _, err := imp.resolve(thread, name); err != nil {
			return starlark.False, nil
		}
	}
	return starlark.True, nil
}

func importStar(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name); err != nil {
		return nil, err
	}
	if !validModuleName(name) {
		name = fmt.Sprintf("%q", name)
	}
	return nil, fmt.Errorf("from %s import *: not supported in inosync configs; import the names you need", name)
}

// newModules builds and freezes the shim modules for env.
func newModules(env Env) modules {
	var snapshot map[string]string
	if env.Getenv != nil {
		snapshot = env.Getenv()
	}
	path := newPathModule(env, snapshot)
	osMod := newOSModule(env, snapshot, path)
	socket := &starlarkstruct.Module{Name: "socket", Members: starlark.StringDict{
		"gethostname": starlark.NewBuiltin("gethostname", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			return starlark.String(env.Hostname), nil
		}),
		// getfqdn does no DNS lookup: it returns name, or Env.Hostname
		// when name is empty or 0.0.0.0 (where Python uses gethostname()).
		"getfqdn": starlark.NewBuiltin("getfqdn", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			name := ""
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name?", &name); err != nil {
				return nil, err
			}
			if name == "" || name == "0.0.0.0" {
				name = env.Hostname
			}
			return starlark.String(name), nil
		}),
	}}
	inspect := &starlarkstruct.Module{Name: "inspect", Members: starlark.StringDict{
		"currentframe": starlark.NewBuiltin("currentframe", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			return frame{}, nil
		}),
		"getfile": starlark.NewBuiltin("getfile", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var v starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
				return nil, err
			}
			if _, ok := v.(frame); !ok {
				return nil, fmt.Errorf("%s: got %s, want frame (inosync configs support only inspect.getfile(inspect.currentframe()))", b.Name(), v.Type())
			}
			return starlark.String(env.File), nil
		}),
	}}
	argv := starlark.NewList([]starlark.Value{starlark.String("inosync")})
	sys := &starlarkstruct.Module{Name: "sys", Members: starlark.StringDict{
		"argv":     argv,
		"version":  starlark.String("2.7.18 (inosync compat)"),
		"platform": starlark.String("linux2"),
	}}
	m := modules{
		"os":        osMod,
		"os.path":   path,
		"posixpath": path,
		"socket":    socket,
		"inspect":   inspect,
		"sys":       sys,
	}
	for _, mod := range m {
		mod.Freeze()
	}
	return m
}

// frame is the opaque value inspect.currentframe() returns.
type frame struct{}

var _ starlark.Value = frame{}

func (frame) String() string        { return "<frame>" }
func (frame) Type() string          { return "frame" }
func (frame) Freeze()               {}
func (frame) Truth() starlark.Bool  { return starlark.True }
func (frame) Hash() (uint32, error) { return 0, errors.New("unhashable: frame") }

// newOSModule builds the os module around the os.path module path, with
// os.environ a frozen copy of snapshot.
func newOSModule(env Env, snapshot map[string]string, path *starlarkstruct.Module) *starlarkstruct.Module {
	keys := make([]string, 0, len(snapshot))
	for k := range snapshot {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	environ := starlark.NewDict(len(keys))
	for _, k := range keys {
		// SetKey on a fresh dict with string keys cannot fail.
		_ = environ.SetKey(starlark.String(k), starlark.String(snapshot[k]))
	}
	environ.Freeze()

	return &starlarkstruct.Module{Name: "os", Members: starlark.StringDict{
		"path":    path,
		"environ": environ,
		"getenv": starlark.NewBuiltin("getenv", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key string
			var def starlark.Value = starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "default?", &def); err != nil {
				return nil, err
			}
			if v, ok := snapshot[key]; ok {
				return starlark.String(v), nil
			}
			return def, nil
		}),
		"sep": starlark.String("/"),
		"uname": starlark.NewBuiltin("uname", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			var u unix.Utsname
			if err := unix.Uname(&u); err != nil {
				return nil, fmt.Errorf("%s: %v", b.Name(), err)
			}
			return starlark.Tuple{
				starlark.String(unix.ByteSliceToString(u.Sysname[:])),
				starlark.String(unix.ByteSliceToString(u.Nodename[:])),
				starlark.String(unix.ByteSliceToString(u.Release[:])),
				starlark.String(unix.ByteSliceToString(u.Version[:])),
				starlark.String(unix.ByteSliceToString(u.Machine[:])),
			}, nil
		}),
		"getcwd": starlark.NewBuiltin("getcwd", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			return starlark.String(env.Cwd), nil
		}),
		"curdir":  starlark.String("."),
		"pardir":  starlark.String(".."),
		"linesep": starlark.String("\n"),
		"name":    starlark.String("posix"),
	}}
}

// newPathModule builds the os.path module: Python 2.7 posixpath semantics,
// with relative paths taken relative to env.Cwd and HOME from snapshot.
func newPathModule(env Env, snapshot map[string]string) *starlarkstruct.Module {
	home, hasHome := snapshot["HOME"]
	abspath := func(p string) string {
		if !strings.HasPrefix(p, "/") {
			p = pyJoin(env.Cwd, p)
		}
		return pyNormpath(p)
	}
	// statPath is the path handed to os.Stat: relative to env.Cwd.
	statPath := func(p string) string {
		if p != "" && !strings.HasPrefix(p, "/") && env.Cwd != "" {
			return pyJoin(env.Cwd, p)
		}
		return p
	}
	str1 := func(name string, f func(string) starlark.Value) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var p string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
				return nil, err
			}
			return f(p), nil
		})
	}
	str := func(f func(string) string) func(string) starlark.Value {
		return func(p string) starlark.Value { return starlark.String(f(p)) }
	}
	pair := func(f func(string) (string, string)) func(string) starlark.Value {
		return func(p string) starlark.Value {
			a, b := f(p)
			return starlark.Tuple{starlark.String(a), starlark.String(b)}
		}
	}
	stat := func(ok func(os.FileInfo) bool) func(string) starlark.Value {
		return func(p string) starlark.Value {
			fi, err := os.Stat(statPath(p))
			return starlark.Bool(err == nil && ok(fi))
		}
	}
	return &starlarkstruct.Module{Name: "os.path", Members: starlark.StringDict{
		"join": starlark.NewBuiltin("join", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(kwargs) > 0 {
				return nil, fmt.Errorf("%s: unexpected keyword arguments", b.Name())
			}
			if len(args) == 0 {
				return nil, fmt.Errorf("%s: got 0 arguments, want at least 1", b.Name())
			}
			parts := make([]string, len(args))
			for i, a := range args {
				s, ok := starlark.AsString(a)
				if !ok {
					return nil, fmt.Errorf("%s: for parameter %d: got %s, want string", b.Name(), i+1, a.Type())
				}
				parts[i] = s
			}
			return starlark.String(pyJoin(parts[0], parts[1:]...)), nil
		}),
		"dirname":  str1("dirname", str(func(p string) string { d, _ := pySplit(p); return d })),
		"basename": str1("basename", str(func(p string) string { return p[strings.LastIndexByte(p, '/')+1:] })),
		"abspath":  str1("abspath", str(abspath)),
		"normpath": str1("normpath", str(pyNormpath)),
		"realpath": str1("realpath", str(func(p string) string {
			a := abspath(p)
			if !strings.HasPrefix(a, "/") {
				return a // no Env.Cwd: cannot resolve a relative path safely
			}
			r, err := filepath.EvalSymlinks(a)
			if err != nil {
				return a
			}
			return r
		})),
		"expanduser": str1("expanduser", str(func(p string) string { return pyExpanduser(p, home, hasHome) })),
		"exists":     str1("exists", stat(func(os.FileInfo) bool { return true })),
		"isdir":      str1("isdir", stat(func(fi os.FileInfo) bool { return fi.IsDir() })),
		"isfile":     str1("isfile", stat(func(fi os.FileInfo) bool { return fi.Mode().IsRegular() })),
		"splitext":   str1("splitext", pair(pySplitext)),
		"split":      str1("split", pair(pySplit)),
		"isabs":      str1("isabs", func(p string) starlark.Value { return starlark.Bool(strings.HasPrefix(p, "/")) }),
		"sep":        starlark.String("/"),
		"curdir":     starlark.String("."),
		"pardir":     starlark.String(".."),
	}}
}

// pyJoin is posixpath.join.
func pyJoin(a string, p ...string) string {
	path := a
	for _, b := range p {
		switch {
		case strings.HasPrefix(b, "/"):
			path = b
		case path == "" || strings.HasSuffix(path, "/"):
			path += b
		default:
			path += "/" + b
		}
	}
	return path
}

// pySplit is posixpath.split.
func pySplit(p string) (head, tail string) {
	i := strings.LastIndexByte(p, '/') + 1
	head, tail = p[:i], p[i:]
	if head != "" && head != strings.Repeat("/", len(head)) {
		head = strings.TrimRight(head, "/")
	}
	return head, tail
}

// pySplitext is posixpath.splitext: leading dots of the last component do
// not start an extension.
func pySplitext(p string) (root, ext string) {
	sep := strings.LastIndexByte(p, '/')
	dot := strings.LastIndexByte(p, '.')
	if dot > sep {
		for i := sep + 1; i < dot; i++ {
			if p[i] != '.' {
				return p[:dot], p[dot:]
			}
		}
	}
	return p, ""
}

// pyNormpath is posixpath.normpath (Python 2.7): exactly two leading
// slashes are kept, "" becomes ".", and leading ".." of a relative path
// are kept.
func pyNormpath(p string) string {
	if p == "" {
		return "."
	}
	initial := 0
	if strings.HasPrefix(p, "/") {
		initial = 1
		if strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///") {
			initial = 2
		}
	}
	var comps []string
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." {
			continue
		}
		if c != ".." || (initial == 0 && len(comps) == 0) || (len(comps) > 0 && comps[len(comps)-1] == "..") {
			comps = append(comps, c)
		} else if len(comps) > 0 {
			comps = comps[:len(comps)-1]
		}
	}
	out := strings.Repeat("/", initial) + strings.Join(comps, "/")
	if out == "" {
		return "."
	}
	return out
}

// pyExpanduser is posixpath.expanduser with HOME from the environment
// snapshot. It does not consult the password database: "~" without HOME and
// "~user" are returned unchanged (as Python does for an unknown user).
func pyExpanduser(p, home string, hasHome bool) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	i := strings.IndexByte(p[1:], '/') + 1
	if i == 0 {
		i = len(p)
	}
	if i != 1 || !hasHome {
		return p
	}
	out := strings.TrimRight(home, "/") + p[i:]
	if out == "" {
		return "/"
	}
	return out
}
