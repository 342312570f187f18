package watch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fanResolver turns the directory handles of fanotify events into the
// directories' current paths, through the mounts that hold trees, and
// keeps what it found by handle: most events of a filesystem come from
// directories in no tree, and one map lookup drops them. It belongs to
// the group's loop.
type fanResolver struct {
	cache map[string][]fanPlace // by fanRecord.key
	// open holds the mounts opened for the read being resolved, by mount
	// id; close lets go of them (see Fanotify.handle).
	open map[uint64]int
}

// fanPlace is a directory as one mount shows it: its current path, the
// trees it is in, whether some tree's root is one of its entries, and
// whether one is below it (a rename or removal there takes the root).
type fanPlace struct {
	dir        string
	trees      []fanHit
	rootParent bool
	rootBelow  bool
}

// fanHit is a tree a directory is in, and whether an excluded directory
// holds it there.
type fanHit struct {
	w        *Watcher
	excluded bool
}

// fanCacheMax bounds the resolved directories kept; past it the cache
// starts again empty.
const fanCacheMax = 1 << 16

// errFanUnresolved: a handle could not be resolved for a reason other
// than its directory being gone (errFanGone).
var (
	errFanUnresolved = errors.New("cannot resolve a directory handle")
	errFanGone       = errors.New("the directory is gone")
)

func newFanResolver() *fanResolver {
	return &fanResolver{cache: map[string][]fanPlace{}, open: map[uint64]int{}}
}

// invalidate forgets every resolved directory: paths changed (a directory
// was renamed) or trees came or went.
func (rs *fanResolver) invalidate() { clear(rs.cache) }

// close lets go of the mounts opened since the last close.
func (rs *fanResolver) close() {
	for id, fd := range rs.open {
		unix.Close(fd)
		delete(rs.open, id)
	}
}

// places returns r's directory as each mount of fs shows it, with the
// trees it is in (place says what a path is), from the cache or resolved
// now; nil when it is in no tree or gone, and then gone says whether it
// is (ESTALE). An error means the handle could not be resolved for
// another reason: nothing is cached then, and the caller must not assume
// the event concerned no tree.
func (rs *fanResolver) places(r fanRecord, fs *fanFS, place func(string) (fanPlace, bool)) (ps []fanPlace, gone bool, err error) {
	if ps, ok := rs.cache[r.key]; ok {
		return ps, false, nil
	}
	for mnt, roots := range fs.mounts {
		dir, err := rs.resolve(r, mnt, roots[0])
		if errors.Is(err, errFanGone) {
			gone = true
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if dir == "" {
			continue
		}
		if p, ok := place(dir); ok {
			ps = append(ps, p)
		}
	}
	if len(rs.cache) >= fanCacheMax {
		rs.invalidate()
	}
	rs.cache[r.key] = ps
	return ps, gone && len(ps) == 0, nil
}

// resolve returns the current path of r's directory through mount mnt,
// reached at root: "" when it is not reachable through that mount, and
// errFanGone when it was deleted.
func (rs *fanResolver) resolve(r fanRecord, mnt uint64, root string) (string, error) {
	mfd, ok := rs.open[mnt]
	if !ok {
		var err error
		if mfd, err = openMount(root, r.fsid); err != nil {
			return "", fmt.Errorf("%w: the tree at %s: %w", errFanUnresolved, root, err)
		}
		rs.open[mnt] = mfd
	}
	fd, err := unix.OpenByHandleAt(mfd, unix.NewFileHandle(r.htype, r.hdl), unix.O_PATH|unix.O_CLOEXEC)
	switch {
	case errors.Is(err, unix.ESTALE):
		return "", errFanGone // its removal covers what happened in it
	case err != nil:
		return "", fmt.Errorf("%w through %s: %w", errFanUnresolved, root, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink == 0 {
		return "", errFanGone // deleted, still held open by someone
	}
	dir, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || !strings.HasPrefix(dir, "/") {
		return "", nil // not reachable through this mount
	}
	return dir, nil
}

// openMount opens a directory on the filesystem fsid to resolve handles
// with: root, or, should root be gone (removed with its tree), the nearest
// directory above it still on that filesystem. open_by_handle_at takes no
// O_PATH descriptor, so it is opened for reading, which
// CAP_DAC_READ_SEARCH allows whatever its mode.
func openMount(root string, fsid [8]byte) (int, error) {
	for dir := root; ; dir = filepath.Dir(dir) {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == nil {
			var st unix.Statfs_t
			if err := unix.Fstatfs(fd, &st); err == nil && fsidBytes(st.Fsid) == fsid {
				return fd, nil
			}
			unix.Close(fd)
			return -1, fmt.Errorf("%s is no longer on the watched filesystem", dir)
		}
		if dir == "/" || dir == "." {
			return -1, err
		}
	}
}

// probeResolve resolves the handle of directory dir, on the filesystem
// fsid, as events will be: it fails when this process may not turn
// handles into paths (no CAP_DAC_READ_SEARCH).
func probeResolve(dir string, fsid [8]byte) error {
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, dir, 0)
	if err != nil {
		return fmt.Errorf("name_to_handle_at %s: %w", dir, err)
	}
	mfd, err := openMount(dir, fsid)
	if err != nil {
		return err
	}
	defer unix.Close(mfd)
	fd, err := unix.OpenByHandleAt(mfd, h, unix.O_PATH|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_by_handle_at %s: %w", dir, err)
	}
	unix.Close(fd)
	return nil
}
