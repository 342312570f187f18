package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.starlark.net/starlark"
)

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
