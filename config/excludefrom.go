package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"

	"github.com/inosync/inosync/rsync/filter"
)

// maxExcludeFile bounds an exclude_from file: a list of patterns is a few
// kilobytes, and each pattern goes to rsync as an argument, all of which
// must fit the kernel's limit on a command line (getconf ARG_MAX).
const maxExcludeFile = 256 << 10

// excludeFrom reads the files that an exclude_from value names (a path or
// a list of paths; relative ones are relative to the config file's
// directory) and returns their patterns in order, as rsync's
// --exclude-from reads them: one per line, blank lines and lines that
// begin with ';' or '#' left out. The daemon reads them here, not the
// config's code, which may not open files. A pattern rsync would refuse is
// an error at the file's line; what is wrong with the value itself is an
// error at p.
func (b *builder) excludeFrom(v starlark.Value, p place, what string) ([]string, error) {
	var files []string
	if s, ok := v.(starlark.String); ok {
		files = []string{string(s)}
	} else if items, ok := sequence(v); ok {
		for i, it := range items {
			s, ok := it.(starlark.String)
			if !ok {
				return nil, b.errAt(p, "%s[%d] must be the path of a file of exclude patterns, got %s", what, i, describe(it))
			}
			files = append(files, string(s))
		}
	} else {
		return nil, b.errAt(p, "%s must be the path of a file of exclude patterns, or a list of them, got %s", what, describe(v))
	}
	var pats []string
	for _, f := range files {
		if hasNUL(f) {
			return nil, b.errAt(p, "%s", nulMessage(what, f))
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(filepath.Dir(b.src.name), f)
		}
		more, err := readExcludeFile(f)
		if err != nil {
			if _, ok := err.(*Error); ok {
				return nil, err
			}
			return nil, b.errAt(p, "%s: %v", what, err)
		}
		pats = append(pats, more...)
	}
	return pats, nil
}

// readExcludeFile reads one file of exclude patterns (see excludeFrom).
func readExcludeFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the exclude file: %w", err)
	}
	if len(data) > maxExcludeFile {
		return nil, fmt.Errorf("the exclude file %s is %d bytes; the limit is %s (is it the right file?)", path, len(data), mib(maxExcludeFile))
	}
	var pats []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxExcludeFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if hasNUL(line) {
			return nil, &Error{File: path, Line: int32(n), Col: 1, Msg: "the pattern holds a NUL byte, which no file name can"}
		}
		if _, err := filter.Compile([]string{line}); err != nil {
			return nil, &Error{File: path, Line: int32(n), Col: 1, Msg: strings.TrimPrefix(err.Error(), "filter: ")}
		}
		pats = append(pats, line)
	}
	return pats, sc.Err()
}
