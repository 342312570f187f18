package watch

import "unsafe"

// direntBuffer is the size of the buffer a walk reads directory entries
// into, reused for every directory of the walk.
const direntBuffer = 32 << 10

// lister lists the subdirectories of one directory at a time. On Linux it
// reads with getdents64(2) into one buffer (readdir_linux.go): a walk of a
// big tree makes no garbage for the files it passes over, only the paths
// of the directories it keeps (os.ReadDir makes an object per entry: at
// 50,000 directories of 20 subdirectories and 2 files each, about a
// million of them). A Watcher keeps its lister, buffers included.
type lister struct {
	buf   []byte
	cpath []byte // the path being opened, NUL-terminated
	// arena, if not nil, holds the paths made (see pathArena).
	arena *pathArena
}

// path returns dir+sep+name, in the arena if there is one.
func (l *lister) path(dir, sep string, name []byte) string {
	if l.arena != nil {
		return l.arena.join(dir, sep, name)
	}
	return dir + sep + string(name)
}

// childPrefix returns what goes before the name of a child of dir in its
// path, as pre+sep (two strings, so that nothing is allocated): dir and
// "/", or just "/" for the file system's root.
func childPrefix(dir string) (pre, sep string) {
	if dir == "/" {
		return dir, ""
	}
	return dir, "/"
}

// arenaBlock is the size of one block of a pathArena.
const arenaBlock = 64 << 10

// pathArena packs paths into large blocks: a path allocated on its own is
// rounded up to a size class (a 59-byte path takes 64), and, made
// between the short-lived copies fsnotify and the kernel interface make of
// every path (the same size), is left scattered over half-empty pages once
// those are collected (bench/findings.md has what that costs). A block lives as long as any path in it, so an arena is only
// for the walk of a whole tree (New, and after an overflow): whatever is
// removed later, the blocks never hold more than that walk made.
type pathArena struct {
	block []byte
}

// join returns dir+sep+name as a string in the arena.
func (a *pathArena) join(dir, sep string, name []byte) string {
	n := len(dir) + len(sep) + len(name)
	if n > arenaBlock/16 {
		return dir + sep + string(name)
	}
	if cap(a.block)-len(a.block) < n {
		a.block = make([]byte, 0, arenaBlock)
	}
	start := len(a.block)
	a.block = append(a.block, dir...)
	a.block = append(a.block, sep...)
	a.block = append(a.block, name...)
	// The bytes are never written again: only appended after.
	return unsafe.String(&a.block[start], n)
}
