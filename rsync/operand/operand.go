// Package operand reads rsync's source and destination operands as rsync
// does: where a transfer is rooted and the names a tree's files get below
// that root, and whether a destination is a path on this machine. The
// rsync runner and the config's checks share it, so that both read a
// trailing slash or a "host:" the same way.
package operand

import (
	"path/filepath"
	"strings"
)

// Root is the directory rsync's paths are relative to when it copies
// source, and the prefix that source's files have below it: the source
// itself for a path written with a trailing slash (rsync copies its
// contents), else its parent, below which its files are under its name.
// rsync anchors filter rules ("/logs/") at that root, before the prefix.
func Root(source string) (base, prefix string) {
	if strings.HasSuffix(source, "/") {
		return source, ""
	}
	if source == "." || strings.HasSuffix(source, "/.") {
		return source + "/", "" // "dir/." copies the contents, as "dir/" does
	}
	clean := filepath.Clean(source)
	base = filepath.Dir(clean)
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base, filepath.Base(clean) + "/"
}

// Local reports whether dest is a path on this machine: not host:path (a
// colon after a non-empty host, before any slash), host::module or an
// rsync:// URL.
func Local(dest string) bool {
	if strings.HasPrefix(dest, "rsync://") {
		return false
	}
	colon := strings.IndexByte(dest, ':')
	return colon <= 0 || strings.Contains(dest[:colon], "/")
}
