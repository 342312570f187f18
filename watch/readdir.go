package watch

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"syscall"
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
	buf []byte
}

// appendSubdirs appends the absolute paths of dir's subdirectories to out,
// sorted by name (symbolic links are not followed, so they are not
// directories here). On an error, out may hold some of them.
func (l *lister) appendSubdirs(out []string, dir string) ([]string, error) {
	n := len(out)
	fd, err := openDir(dir)
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
			out = append(out, dir+sep+string(name))
		}
	}
	slices.Sort(out[n:]) // same parent: byte order is table order
	return out, nil
}

// openDir opens dir for reading its entries.
func openDir(dir string) (int, error) {
	for {
		fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: dir, Err: err}
		}
		return fd, nil
	}
}
