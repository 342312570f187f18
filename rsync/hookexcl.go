package rsync

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// excludeList walks the directories a run syncs recursively (the whole
// tree when full, else the listed entries that end in '/') and collects,
// as anchored rsync patterns, every path the config's exclude functions
// leave out, without descending into excluded directories. rsync applies
// the --exclude patterns itself; the functions exist only in the config,
// so this list is how a full or recursive run leaves out what they
// exclude, exactly as the incremental runs do.
//
// A path created between this walk and rsync's own scan is not in the list
// and may be copied; its own event is excluded, so it then stays on the
// target until it is deleted at the source.
//
// The patterns are NUL-terminated (for --from0), anchored at the transfer
// root (prefix is the watched directory's name when rsync's base is its
// parent), and escaped where rsync would read wildcards.
func excludeList(root, prefix string, full bool, paths []string, excluded func(rel string, isDir bool) bool) ([]byte, int) {
	var dirs []string
	if full {
		dirs = []string{""}
	} else {
		for _, p := range paths {
			if strings.HasSuffix(p, "/") {
				dirs = append(dirs, strings.TrimSuffix(p, "/"))
			}
		}
	}
	var b bytes.Buffer
	n := 0
	for _, d := range dirs {
		start := filepath.Join(root, filepath.FromSlash(d))
		_ = filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
			if err != nil || p == start {
				return nil // vanished meanwhile: rsync will see that too
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			isDir := e.IsDir()
			if !excluded(rel, isDir) {
				return nil
			}
			b.WriteString(anchoredPattern(prefix + rel))
			b.WriteByte(0)
			n++
			if isDir {
				return filepath.SkipDir
			}
			return nil
		})
	}
	return b.Bytes(), n
}

// anchoredPattern is an rsync pattern matching exactly the path rel below
// the transfer root. rsync reads backslashes as escapes only in a pattern
// with wildcards, so a name with none stays as it is.
func anchoredPattern(rel string) string {
	if !strings.ContainsAny(rel, "*?[") {
		return "/" + rel
	}
	var b strings.Builder
	b.WriteByte('/')
	for _, c := range []byte(rel) {
		if strings.IndexByte(`*?[\`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// writeExcludeFile writes patterns to a temp file for --exclude-from and
// returns its path; the caller removes it.
func writeExcludeFile(patterns []byte) (string, error) {
	f, err := os.CreateTemp("", "inosync-exclude-*")
	if err != nil {
		return "", fmt.Errorf("exclude list: %w", err)
	}
	_, werr := f.Write(patterns)
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("exclude list %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}
