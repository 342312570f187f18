package watch

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"unsafe"
)

// direntBuffer is the size of the buffer a walk reads directory entries
// into, reused for every directory of the walk.
const direntBuffer = 32 << 10

// lister lists the subdirectories of one directory at a time, with
// getdents64(2) into one buffer: a walk of a big tree makes no garbage for
// the files it passes over, only the paths of the directories it keeps
// (os.ReadDir makes an object per entry: at 50,000 directories of 20
// subdirectories and 2 files each, about a million of them).
type lister struct {
	buf   []byte
	cpath []byte // the path being opened, NUL-terminated
	// arena, if not nil, holds the paths made (see pathArena).
	arena *pathArena
}

// arenaBlock is the size of one block of a pathArena.
const arenaBlock = 64 << 10

// pathArena packs paths into large blocks: a path allocated on its own is
// rounded up to a size class (a 59-byte path takes 64), and, made
// between the short-lived copies fsnotify and the kernel interface make of
// every path (the same size), is left scattered over half-empty pages once
// those are collected: in a walk of 50,000 directories that is 2.7 MiB of
// the heap. A block lives as long as any path in it, so an arena is only
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

// appendSubdirs appends the absolute paths of dir's subdirectories to out,
// sorted by name (symbolic links are not followed, so they are not
// directories here). On an error, out may hold some of them.
func (l *lister) appendSubdirs(out []string, dir string) ([]string, error) {
	n := len(out)
	fd, err := l.openDir(dir)
	if err != nil {
		return out, err
	}
	defer syscall.Close(fd)
	if l.buf == nil {
		l.buf = make([]byte, direntBuffer)
	}
	sep := "/"
	if dir == "/" {
		sep = ""
	}
	for {
		n, err := syscall.ReadDirent(fd, l.buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return out, &os.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if n <= 0 {
			break
		}
		for b := l.buf[:n]; len(b) > 0; {
			// struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name.
			if len(b) < 19 {
				return out, fmt.Errorf("readdirent %s: short entry", dir)
			}
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return out, fmt.Errorf("readdirent %s: bad entry length %d", dir, reclen)
			}
			ino, typ, name := binary.NativeEndian.Uint64(b[0:8]), b[18], b[19:reclen]
			b = b[reclen:]
			if i := slices.Index(name, 0); i >= 0 {
				name = name[:i]
			}
			if ino == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			switch typ {
			case syscall.DT_DIR:
			case syscall.DT_UNKNOWN: // a filesystem that does not say: ask
				var st syscall.Stat_t
				if syscall.Lstat(dir+sep+string(name), &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
					continue
				}
			default:
				continue
			}
			if l.arena != nil {
				out = append(out, l.arena.join(dir, sep, name))
			} else {
				out = append(out, dir+sep+string(name))
			}
		}
	}
	slices.Sort(out[n:]) // same parent: byte order is table order
	return out, nil
}

// atFDCWD is AT_FDCWD, as a variable so that it converts to uintptr.
var atFDCWD = -100

// openDir opens dir for reading its entries. It passes the path to the
// kernel from a buffer of its own, reused (syscall.Open copies it into a
// new one each time).
func (l *lister) openDir(dir string) (int, error) {
	if strings.IndexByte(dir, 0) >= 0 {
		return -1, &os.PathError{Op: "open", Path: dir, Err: syscall.EINVAL}
	}
	l.cpath = append(append(l.cpath[:0], dir...), 0)
	for {
		fd, _, errno := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&l.cpath[0])),
			uintptr(syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC), 0, 0, 0)
		switch errno {
		case 0:
			return int(fd), nil
		case syscall.EINTR:
			continue
		}
		return -1, &os.PathError{Op: "open", Path: dir, Err: errno}
	}
}
