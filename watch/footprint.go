package watch

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// footprint is what a tree's watches may reach, to tell which trees may
// share an inotify instance. The kernel keeps one watch per directory and
// fsnotify one path per watch: two trees that can reach one directory,
// by two paths or one, would get its events under one tree's path only.
// A tree reaches what is below its root's path as written, below the
// directory that path leads to, and, per filesystem, below the place of
// that directory and of each filesystem mounted under it (a bind mount
// shows the same directory at another path).
type footprint struct {
	path, real string
	regions    []region
}

// region is a directory subtree of one filesystem: its device, and the
// path of its top inside that filesystem.
type region struct {
	dev  uint64
	path string
}

// mount is one line of /proc/self/mountinfo: a filesystem's device, the
// directory of it that is mounted, and where.
type mount struct {
	dev         uint64
	root, point string
}

// treeFootprint is the footprint of the tree at root (absolute, cleaned)
// under mounts; without mounts only the paths are compared.
func treeFootprint(root string, mounts []mount) footprint {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		real = root
	}
	return footprintOf(root, real, mounts)
}

// footprintOf is the footprint of the tree at path, which leads to the
// directory real (symlinks resolved), under mounts.
func footprintOf(path, real string, mounts []mount) footprint {
	fp := footprint{path: path, real: real}
	top := -1
	for i, m := range mounts {
		switch {
		case under(m.point, fp.real) && (top < 0 || len(m.point) >= len(mounts[top].point)):
			top = i // the last of equal mount points is the one seen
		case under(fp.real, m.point) && m.point != fp.real:
			fp.regions = append(fp.regions, region{m.dev, m.root})
		}
	}
	if top >= 0 {
		m := mounts[top]
		rest := strings.TrimPrefix(fp.real, m.point)
		fp.regions = append(fp.regions, region{m.dev, filepath.Join(m.root, rest)})
	}
	return fp
}

// overlaps reports whether a and b may reach one directory.
func (a footprint) overlaps(b footprint) bool {
	if nested(a.path, b.path) || nested(a.real, b.real) {
		return true
	}
	for _, ra := range a.regions {
		for _, rb := range b.regions {
			if ra.dev == rb.dev && nested(ra.path, rb.path) {
				return true
			}
		}
	}
	return false
}

// nested reports whether one of the cleaned absolute paths a and b is the
// other or below it.
func nested(a, b string) bool { return under(a, b) || under(b, a) }

// under reports whether the cleaned absolute path p is dir or below it.
func under(dir, p string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir) && p[len(dir)] == '/'
}

// readMounts reads the process's mount table; an error gives none.
func readMounts() []mount {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if m, ok := parseMountinfo(sc.Text()); ok {
			ms = append(ms, m)
		}
	}
	return ms
}

// parseMountinfo reads one line of mountinfo (proc(5)): "36 35 98:0 /mnt1
// /mnt2 …" is device 98:0, its directory /mnt1 mounted on /mnt2.
func parseMountinfo(line string) (mount, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return mount{}, false
	}
	major, minor, ok := strings.Cut(f[2], ":")
	if !ok {
		return mount{}, false
	}
	ma, err1 := strconv.ParseUint(major, 10, 32)
	mi, err2 := strconv.ParseUint(minor, 10, 32)
	if err1 != nil || err2 != nil {
		return mount{}, false
	}
	return mount{dev: unix.Mkdev(uint32(ma), uint32(mi)), root: unescapeOctal(f[3]), point: unescapeOctal(f[4])}, true
}

// unescapeOctal undoes mountinfo's escapes of space, tab, newline and
// backslash ("\040" for a space).
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
