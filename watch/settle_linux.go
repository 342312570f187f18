package watch

import (
	"errors"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// settled is Watcher.Settled for the file at path. fsnotify delivers no
// IN_CLOSE_WRITE, so whether a writer still has the file open is asked
// with a read lease, which the kernel grants only while nobody has the
// file open for writing (fcntl(2), F_SETLEASE); it is let go at once with
// the descriptor. Before that, two signs that an event of the file is
// still on its way (read by the kernel interface but not yet taken in):
// the file changed after f.Seen (its inode change time is later), or it
// was created with content but no write was seen (a write(2) makes an
// event; a file moved or linked in makes none, and waits out the delay
// instead). A writer that still has the file open is not waited for: the
// probe answers once, and the batch waits out its delay (asking again
// while the writer closes would let batches go while an event of the last
// write is still on its way: bench/findings.md). false is also the answer when the
// probe cannot tell (a lease is refused to a process that neither owns
// the file nor has CAP_LEASE, and on file systems without leases): the
// caller then waits.
//
// noLeases is set for good at the first EINVAL from the lease, the answer
// of a file system without leases (NFS, FUSE): the probe then answers false
// at once, without its system calls.
func settled(path string, f Settling, noLeases *atomic.Bool) bool {
	if noLeases.Load() {
		return false
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return errors.Is(err, unix.ENOENT)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return true
	}
	if f.Seen.IsZero() || st.Ctim.Nano() > f.Seen.UnixNano() {
		return false
	}
	if f.Ops&Create != 0 && f.Ops&(Write|CloseWrite) == 0 && st.Size > 0 {
		return false
	}
	// O_NONBLOCK: should a FIFO have taken the file's place since the
	// lstat, its open does not wait for a writer.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return errors.Is(err, unix.ENOENT)
	}
	defer unix.Close(fd) // which lets go of the lease at once
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK); err != nil {
		if errors.Is(err, unix.EINVAL) {
			noLeases.Store(true)
		}
		return false
	}
	return true
}

// openForWriting reports whether some process has the regular file at path
// open for writing: the kernel refuses a read lease then (EAGAIN). Every
// other answer, including "cannot tell" (no lease for this user, no
// leases on this file system), is false, and the file is synced as usual.
func openForWriting(path string, noLeases *atomic.Bool) bool {
	if noLeases.Load() {
		return false
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd) // which lets go of the lease at once
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
	if errors.Is(err, unix.EINVAL) {
		noLeases.Store(true)
	}
	return errors.Is(err, unix.EAGAIN)
}
