package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"go.starlark.net/starlark"
)

// afterSettings reads the global after and after_timeout: the defaults of
// every tree's (sync(after=…, after_timeout=…) and node(after=…) give
// their own).
func (b *builder) afterSettings(g starlark.StringDict, c *Config) error {
	// A helper function of the config's own that has one of these names
	// (from before they were settings) is left alone.
	if _, helper := g["after"].(starlark.Callable); !helper {
		if err := b.globalAfter(g, c); err != nil {
			return err
		}
	}
	if _, helper := g["after_timeout"].(starlark.Callable); helper {
		return nil
	}
	var err error
	c.AfterTimeout, err = b.seconds(g, "after_timeout", 0, false)
	return err
}

// globalAfter reads the global after.
func (b *builder) globalAfter(g starlark.StringDict, c *Config) error {
	if v, ok := g["after"]; ok && v != starlark.None {
		argv, err := afterArgv(v, "after")
		if err != nil {
			return b.errAt(b.src.settingPos("after"), "%v", err)
		}
		c.After = argv
	}
	return nil
}

// unusedAfterTimeouts warns about an after_timeout that bounds no
// command: no tree it applies to has an after command.
func (b *builder) unusedAfterTimeouts(g starlark.StringDict, c *Config) {
	_, helper := g["after_timeout"].(starlark.Callable)
	if v, ok := g["after_timeout"]; ok && v != starlark.None && !helper && !slices.ContainsFunc(c.Syncs, hasAfter) {
		b.warnAt(b.src.settingPos("after_timeout"), "after_timeout is set but no tree has an after command: it bounds nothing")
	}
}

// afterArgv reads an after setting (sync(after=…) or node(after=…)): the
// command line of a program run after each successful sync, as a list of
// strings, never a shell line. Its first item is the program, by absolute
// path, and must exist; an empty list means none (a node's, to run none
// where its tree has one). what names the setting in errors.
func afterArgv(v starlark.Value, what string) ([]string, error) {
	var items []starlark.Value
	switch x := v.(type) {
	case *starlark.List:
		for i := range x.Len() {
			items = append(items, x.Index(i))
		}
	case starlark.Tuple:
		items = x
	case starlark.String:
		return nil, fmt.Errorf("%s must be a list: the program and its arguments, each a string (no shell runs it), e.g. [\"/usr/local/sbin/purge-cache\", \"--site\", \"www\"]; got the string %s", what, x.String())
	default:
		return nil, fmt.Errorf("%s must be a list of strings: the program and its arguments, got %s", what, describe(v))
	}
	argv := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: item %d must be a string, got %s", what, i, describe(it))
		}
		if hasNUL(string(s)) {
			return nil, errors.New(nulMessage(fmt.Sprintf("%s item %d", what, i), string(s)))
		}
		argv = append(argv, string(s))
	}
	if len(argv) == 0 {
		return argv, nil
	}
	if err := checkProgram(argv[0], what); err != nil {
		return nil, err
	}
	return argv, nil
}

// checkProgram checks that path names a program that may be run: by
// absolute path (no search of $PATH, which differs between a shell and a
// service), an existing file, executable by someone.
func checkProgram(path, what string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s: the program %q needs its absolute path (inosync runs it without a shell or a search of $PATH)", what, path)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("%s: the program %s does not exist", what, path)
	case fi.IsDir():
		return fmt.Errorf("%s: %s is a directory, not a program", what, path)
	case fi.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s: %s is not executable (chmod +x it)", what, path)
	}
	return nil
}

// hasAfter reports whether a tree runs an after command for some node:
// its own, or the tree's where the node gives none of its own.
func hasAfter(s Sync) bool {
	for _, d := range s.Dests {
		if len(d.After) > 0 || d.After == nil && len(s.After) > 0 {
			return true
		}
	}
	return false
}
