package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/inosync/inosync/compat"
)

// DefaultMaxSteps bounds the Starlark steps of loading a config (about a
// second of work): a runaway loop ends with an error instead of a hung daemon.
const DefaultMaxSteps = 100_000_000

// fileOptions are the language switches contract 3 promises.
var fileOptions = syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}

// Options are the outside facts a load may see. The zero value is usable:
// it reads the process environment, working directory and host name.
type Options struct {
	Cwd      string            // start-up directory: relative wpaths resolve against it
	Env      map[string]string // environment snapshot for os.environ and $VAR in extra; nil = the process's
	Hostname string            // for socket.gethostname(); "" = the machine's
	// Print receives the config's own print() output, one call per line.
	// nil discards it.
	Print func(msg string)
	// MaxSteps bounds the Starlark steps of the whole load; 0 = DefaultMaxSteps.
	MaxSteps uint64
	// MaxMemory bounds how much the heap may grow during the load, in
	// bytes; 0 = DefaultMaxMemory.
	MaxMemory uint64
	// Timeout bounds the wall-clock time of the load; 0 = DefaultTimeout.
	Timeout time.Duration
	// HookTimeout bounds the wall-clock time of one call of an exclude
	// or filter hook; 0 = HookTimeout.
	HookTimeout time.Duration
	// SameProcess evaluates the config in this process only. By default
	// Load first evaluates it in a child process with a hard memory limit
	// (see child.go), because one Starlark operation can ask for more
	// memory than the machine has, which no check inside the process
	// can stop; only a config that passes there is evaluated here.
	SameProcess bool
}

func (o *Options) fill() error {
	if o.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("working directory: %w", err)
		}
		o.Cwd = wd
	}
	if o.Env == nil {
		o.Env = map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				o.Env[k] = v
			}
		}
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxMemory == 0 {
		o.MaxMemory = DefaultMaxMemory
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout * raceSlowdown
	}
	if o.HookTimeout == 0 {
		o.HookTimeout = HookTimeout * raceSlowdown
	}
	return nil
}

// loader evaluates one config file and the modules it imports from its
// own directory. It lives for one Load.
type loader struct {
	opts    Options
	top     string // the config file as given
	thread  *starlark.Thread
	guard   *guard
	mark    *marker            // only in a locating child
	sources map[string]*source // by file name as Starlark reports it
	modules map[string]starlark.Value
	loading map[string]bool
}

// source is one evaluated file: its rewrite (for mapping positions back)
// and its syntax tree (for finding where a setting was assigned).
type source struct {
	name    string
	rewrite *compat.Result
	file    *syntax.File
}

// newLoader makes the loader of one config file; opts is filled.
func newLoader(path string, opts Options) *loader {
	l := &loader{
		opts:    opts,
		top:     path,
		sources: map[string]*source{},
		modules: map[string]starlark.Value{},
		loading: map[string]bool{},
	}
	l.thread = &starlark.Thread{
		Name: "config",
		Print: func(_ *starlark.Thread, msg string) {
			if opts.Print != nil {
				for _, line := range strings.Split(msg, "\n") {
					opts.Print(line)
				}
			}
		},
		Load: func(*starlark.Thread, string) (starlark.StringDict, error) {
			return nil, errors.New("load() is not available in inosync configs")
		},
	}
	l.guard = newGuard(opts.MaxSteps, opts.Timeout, opts.MaxMemory)
	l.guard.attach(l.thread)
	return l
}

// Load reads, evaluates and validates the config file at path.
func Load(path string, opts Options) (*Config, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if !opts.SameProcess {
		if err := checkInChild(path, opts); err != nil {
			return nil, err
		}
	}
	return newLoader(path, opts).load()
}

// load reads, evaluates and validates the loader's config file.
func (l *loader) load() (*Config, error) {
	path := l.top
	top, err := l.read(path)
	if err != nil {
		return nil, err
	}
	b := &builder{l: l, src: top}
	predeclared := l.builtins(path)
	for k, v := range b.builtins() {
		predeclared[k] = v
	}
	globals, err := l.exec(top, predeclared)
	if err != nil {
		return nil, err
	}
	return b.validate(globals, l.opts)
}

// read loads and rewrites one file.
func (l *loader) read(path string) (*source, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &Error{File: path, Msg: "configuration file does not exist"}
	case err != nil:
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the configuration file: %v", unwrapPathError(err))}
	case !fi.Mode().IsRegular():
		return nil, &Error{File: path, Msg: "the configuration file is not a regular file"}
	case fi.Size() > MaxSourceSize:
		return nil, tooBig(path, fi.Size())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the configuration file: %v", unwrapPathError(err))}
	}
	if len(raw) > MaxSourceSize { // grown since the Stat
		return nil, tooBig(path, int64(len(raw)))
	}
	rw, err := compat.Rewrite(path, raw)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	src := &source{name: path, rewrite: rw}
	l.sources[path] = src
	return src, nil
}

// exec parses and runs one rewritten file with the given predeclared names.
func (l *loader) exec(src *source, predeclared starlark.StringDict) (starlark.StringDict, error) {
	f, err := fileOptions.Parse(src.name, src.rewrite.Src, 0)
	if err != nil {
		return nil, l.located(err)
	}
	if pos, deep := checkDepth(f); deep {
		return nil, l.at(pos, fmt.Sprintf("expression nested more than %d deep: split it (e.g. x = a + b, then x += c on the next line)", MaxDepth))
	}
	if l.mark != nil {
		l.mark.instrument(f)
	}
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		return nil, l.located(err)
	}
	src.file = f
	globals, err := prog.Init(l.thread, predeclared)
	if err != nil {
		return nil, l.located(err)
	}
	globals.Freeze()
	return globals, nil
}

// builtins returns the predeclared names of one file.
func (l *loader) builtins(file string) starlark.StringDict {
	d := compat.Builtins(compat.Env{
		Getenv:   func() map[string]string { return l.opts.Env },
		Cwd:      l.opts.Cwd,
		Hostname: l.opts.Hostname,
		File:     file,
		Local:    func(_ *starlark.Thread, name string) (starlark.Value, error) { return l.importLocal(file, name) },
	})
	if l.mark != nil {
		d[markName] = l.mark.builtin()
	}
	d["__file__"] = starlark.String(file)
	d["__name__"] = starlark.String(moduleName(file))
	return d
}

// moduleName is the name 0.2.3's import gave the config: its base name
// without ".py".
func moduleName(file string) string {
	return strings.TrimSuffix(filepath.Base(file), ".py")
}

// importLocal loads NAME.py from the directory of the importing file, as
// Python's import did for inosync 0.2.3 configs. It returns (nil, nil)
// when there is no such file.
func (l *loader) importLocal(from, name string) (starlark.Value, error) {
	if strings.ContainsAny(name, "/.") {
		return nil, nil
	}
	path := filepath.Join(filepath.Dir(from), name+".py")
	if m, ok := l.modules[path]; ok {
		return m, nil
	}
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	if l.loading[path] {
		return nil, fmt.Errorf("import %s: %s imports itself (an import cycle)", name, path)
	}
	l.loading[path] = true
	defer delete(l.loading, path)
	src, err := l.read(path)
	if err != nil {
		return nil, err
	}
	globals, err := l.exec(src, l.builtins(path))
	if err != nil {
		return nil, err
	}
	m := &starlarkstruct.Module{Name: name, Members: globals}
	l.modules[path] = m
	return m, nil
}

// located turns a Starlark error into an *Error at the user's own line and
// column.
func (l *loader) located(err error) error {
	var (
		syn  syntax.Error
		list resolve.ErrorList
		eval *starlark.EvalError
		cfg  *Error
	)
	switch {
	case errors.As(err, &cfg):
		return cfg
	case errors.As(err, &syn):
		if pos, ok := l.fString(syn.Pos); ok {
			return l.at(pos, `f-strings are not supported; use "%s" % (x,) or "{}".format(x)`)
		}
		e := l.at(syn.Pos, plainSyntax(syn.Msg))
		if l.lsyncd(syn.Pos.Filename()) {
			e.Msg = "this looks like an lsyncd config (Lua: settings { … }, sync { … }), not an inosync one (" + e.Msg + ")"
			e.Hint = "convert it with: inosync --convert " + syn.Pos.Filename() + ` > inosync.py (docs/migrating.md, "From lsyncd", gives the inosync form of each lsyncd setting)`
		}
		return e
	case errors.As(err, &list) && len(list) > 0:
		// Report the first; the rest are usually consequences of it.
		return l.at(list[0].Pos, list[0].Msg)
	case errors.As(err, &eval):
		// A nested load's own *Error travels wrapped in the EvalError.
		if errors.As(eval.Unwrap(), &cfg) {
			return cfg
		}
		msg, hint := l.guard.message(l.opts.MaxSteps)
		if msg == "" {
			msg = eval.Msg
		}
		for i := len(eval.CallStack) - 1; i >= 0; i-- {
			pos := eval.CallStack[i].Pos
			if pos.Filename() != "<builtin>" {
				if l.guard.stopped == stopSteps || l.guard.stopped == stopTime {
					pos = l.loopPos(pos)
				}
				e := l.at(pos, msg)
				e.Hint = hint
				return e
			}
		}
		return &Error{File: l.top, Msg: msg, Hint: hint}
	}
	return &Error{File: l.top, Msg: err.Error()}
}

// loopPos improves the position of a runaway loop: a loop whose body
// compiles to a bare jump (while True: pass) reports the start of its
// function or file; point at its while statement instead.
func (l *loader) loopPos(pos syntax.Position) syntax.Position {
	src := l.sources[pos.Filename()]
	if src == nil || src.file == nil {
		return pos
	}
	found := pos
	syntax.Walk(src.file, func(n syntax.Node) bool {
		w, ok := n.(*syntax.WhileStmt)
		if !ok || found != pos {
			return found == pos
		}
		start, _ := w.Span()
		if (start.Line > pos.Line || start.Line == pos.Line && start.Col >= pos.Col) && onlyPass(w.Body) {
			found = start
		}
		return true
	})
	return found
}

func onlyPass(body []syntax.Stmt) bool {
	for _, st := range body {
		if b, ok := st.(*syntax.BranchStmt); !ok || b.Token != syntax.PASS {
			return false
		}
	}
	return true
}

// at builds an *Error at a position of rewritten source, mapped back.
func (l *loader) at(pos syntax.Position, msg string) *Error {
	e := &Error{File: pos.Filename(), Line: pos.Line, Col: pos.Col, Msg: msg}
	if src := l.sources[e.File]; src != nil && e.Line > 0 {
		e.Line, e.Col = src.rewrite.Orig(pos.Line, pos.Col)
	}
	return e
}

// fString reports whether the syntax error at pos is a Python 3 f-string:
// the parser stops right after a string literal that follows an f prefix
// (f"…", F'…', rf"…"). It returns where the prefix starts.
func (l *loader) fString(pos syntax.Position) (syntax.Position, bool) {
	src := l.sources[pos.Filename()]
	if src == nil || pos.Line < 1 {
		return pos, false
	}
	lines := strings.Split(string(src.rewrite.Src), "\n")
	if int(pos.Line) > len(lines) {
		return pos, false
	}
	line := []rune(lines[pos.Line-1])
	end := min(int(pos.Col)-1, len(line))
	found := fStringStart.FindAllStringSubmatchIndex(string(line[:end]), -1)
	if len(found) == 0 {
		return pos, false
	}
	last := found[len(found)-1]
	head := string(line[:end])
	// The string that opens there must be the one the parser stopped
	// after: its closing quote is the last character before pos.
	open := utf8.RuneCountInString(head[:last[1]]) - 1
	if closing(line, open) != end-1 || commented(line, open) {
		return pos, false
	}
	pos.Col = int32(utf8.RuneCountInString(head[:last[2]]) + 1)
	return pos, true
}

// commented reports whether line[at] is in a comment: a '#' outside a
// string literal comes before it.
func commented(line []rune, at int) bool {
	for i := 0; i < at; i++ {
		switch line[i] {
		case '#':
			return true
		case '"', '\'':
			c := closing(line, i)
			if c < 0 {
				return false
			}
			i = c
		}
	}
	return false
}

// lsyncd reports whether the file name is an lsyncd config (see
// LooksLikeLsyncd).
func (l *loader) lsyncd(name string) bool {
	var text []byte
	if src := l.sources[name]; src != nil {
		text = src.rewrite.Src
	}
	return LooksLikeLsyncd(name, text)
}

// LooksLikeLsyncd reports whether a config file is an lsyncd config: a
// .lua name, or a settings { or sync { block in its text src.
func LooksLikeLsyncd(name string, src []byte) bool {
	return strings.HasSuffix(name, ".lua") || lsyncdBlock.Match(src)
}

// lsyncdBlock matches the start of an lsyncd settings or sync block.
var lsyncdBlock = regexp.MustCompile(`(?m)^\s*(settings|sync)\s*\{`)

// closing returns the index of the quote that closes the one-line string
// literal opening at line[open], or -1.
func closing(line []rune, open int) int {
	q := line[open]
	for i := open + 1; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case q:
			return i
		}
	}
	return -1
}

// fStringStart matches an f-string's prefix and opening quote; group 1 is
// the prefix.
var fStringStart = regexp.MustCompile(`(?:^|[^A-Za-z0-9_])([rR]?[fF]|[fF][rR])["']`)

// plainSyntax rewords the parser's terse messages.
func plainSyntax(msg string) string {
	if msg == "excessive nesting" {
		return fmt.Sprintf("syntax error: brackets or operators nested more than %d deep: split the expression", MaxDepth)
	}
	return "syntax error: " + msg
}

// tooBig is the error for a config file over MaxSourceSize.
func tooBig(path string, size int64) *Error {
	return &Error{File: path, Msg: fmt.Sprintf("the file is %d bytes; the limit is %s (a config is normally a few kilobytes: is it the right file?)", size, mib(MaxSourceSize))}
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
