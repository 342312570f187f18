//go:build !linux

package watch

import (
	"os"
	"slices"
)

// appendSubdirs appends the paths of dir's subdirectories to out (see
// childPrefix), sorted by name (symbolic links are not followed, so they
// are not directories here). On an error, out holds those read before it.
func (l *lister) appendSubdirs(out []string, dir string) ([]string, error) {
	first := len(out)
	f, err := os.Open(dir)
	if err != nil {
		return out, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	pre, sep := childPrefix(dir)
	for _, e := range entries {
		if e.Type().IsDir() {
			out = append(out, l.path(pre, sep, []byte(e.Name())))
		}
	}
	slices.Sort(out[first:])
	return out, err
}
