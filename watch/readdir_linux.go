package watch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"unsafe"
)

// appendSubdirs appends the paths of dir's subdirectories to out (see
// childPrefix), sorted by name (symbolic links are not followed, so they
// are not directories here). On an error, out holds those read before it.
func (l *lister) appendSubdirs(out []string, dir string) ([]string, error) {
	first := len(out)
	fd, err := l.openDir(dir)
	if err != nil {
		return out, err
	}
	defer syscall.Close(fd)
	if l.buf == nil {
		l.buf = make([]byte, direntBuffer)
	}
	pre, sep := childPrefix(dir)
	defer func() { slices.Sort(out[first:]) }() // same parent: byte order is table order
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
				return out, &os.PathError{Op: "readdirent", Path: dir, Err: errors.New("short entry")}
			}
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return out, &os.PathError{Op: "readdirent", Path: dir, Err: fmt.Errorf("bad entry length %d", reclen)}
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
				if err := syscall.Lstat(pre+sep+string(name), &st); err != nil {
					if err == syscall.ENOENT {
						continue // gone meanwhile
					}
					return out, &os.PathError{Op: "lstat", Path: pre + sep + string(name), Err: err}
				}
				if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
					continue
				}
			default:
				continue
			}
			out = append(out, l.path(pre, sep, name))
		}
	}
	return out, nil
}

// atFDCWD returns AT_FDCWD as a system call argument (a negative constant
// does not convert to uintptr).
func atFDCWD() uintptr {
	fd := -100
	return uintptr(fd)
}

// openDir opens dir for reading its entries. It passes the path to the
// kernel from a buffer of its own, reused (syscall.Open copies it into a
// new one each time).
func (l *lister) openDir(dir string) (int, error) {
	if strings.IndexByte(dir, 0) >= 0 {
		return -1, &os.PathError{Op: "open", Path: dir, Err: syscall.EINVAL}
	}
	l.cpath = append(append(l.cpath[:0], dir...), 0)
	for {
		fd, _, errno := syscall.Syscall6(syscall.SYS_OPENAT, atFDCWD(), uintptr(unsafe.Pointer(&l.cpath[0])),
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
