package watch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Root is the directory a tree's path led to when the tree started: its
// device and inode. A path can come to lead elsewhere while the tree is
// watched (the filesystem unmounted, the directory removed and made
// again, another one renamed into its place, a symlink re-pointed), and
// then neither the watches nor a sync from that path mean what they did.
type Root struct {
	Path string
	id   dirID
	// mountPoint: the directory was the root of a mounted filesystem
	// (on another device than its parent).
	mountPoint bool
}

// dirID says which directory a path leads to: its device and inode, and
// the mount it was reached through (a new mount of a tmpfs may reuse the
// device number and the root inode of one just unmounted; the kernel's
// unique mount id tells them apart).
type dirID struct{ dev, ino, mnt uint64 }

// StatRoot records the directory path leads to now (symlinks followed).
func StatRoot(path string) (Root, error) {
	id, err := statDir(path)
	if err != nil {
		return Root{}, err
	}
	return Root{Path: path, id: id, mountPoint: isMountPoint(path, id.dev)}, nil
}

// statxMntIDUnique asks statx(2) for a mount id that is never reused
// (Linux 6.8); older kernels answer with the plain mount id.
const statxMntIDUnique = 0x4000

// statDir identifies the directory path leads to.
func statDir(path string) (dirID, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_TYPE|unix.STATX_INO|unix.STATX_MNT_ID|statxMntIDUnique, &st); err != nil {
		return dirID{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return dirID{}, fmt.Errorf("%s is not a directory", path)
	}
	return dirID{dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino, mnt: st.Mnt_id}, nil
}

// isMountPoint reports whether the directory path (on device dev) is on
// another device than its parent: the parent of the directory it leads
// to, symlinks followed (a re-pointed symlink's new target has a parent of
// its own).
func isMountPoint(path string, dev uint64) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	parent, err := statDir(filepath.Dir(real))
	return err == nil && parent.dev != dev
}

// Errors of Root.Check, wrapped with the details.
var (
	// ErrRootGone: the path leads to no directory (removed, renamed
	// away, a symlink that leads nowhere).
	ErrRootGone = errors.New("the source no longer leads to a directory")
	// ErrRootUnmounted: the root was a mounted filesystem and the path
	// now leads to the bare mount point below it.
	ErrRootUnmounted = errors.New("the source's filesystem is no longer mounted")
	// ErrRootReplaced: the path leads to another directory (made again,
	// another one renamed or linked into place, another filesystem
	// mounted there): the watches are on the old one.
	ErrRootReplaced = errors.New("the source is another directory than the one watched")
)

// Check reports whether the path still leads to the directory it led to
// when r was recorded: nil, or one of the ErrRoot errors, wrapped with
// what the path leads to now.
func (r Root) Check() error {
	id, err := statDir(r.Path)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %s: %v (removed, renamed or unmounted?); nothing is synced until it is back", ErrRootGone, r.Path, err)
	case id == r.id:
		return nil
	case r.mountPoint && !isMountPoint(r.Path, id.dev):
		return fmt.Errorf("%w: %s was the filesystem on device %d:%d and is a bare directory now (unmounted?); nothing is synced until it is mounted again", ErrRootUnmounted, r.Path,
			unix.Major(r.id.dev), unix.Minor(r.id.dev))
	}
	return fmt.Errorf("%w: %s (made again, replaced or mounted over)", ErrRootReplaced, r.Path)
}
