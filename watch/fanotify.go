package watch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Fanotify watches trees through one fanotify group: one mark per
// filesystem that holds trees (FAN_MARK_FILESYSTEM), reporting each event
// as a directory's handle and an entry's name, with no watch per
// directory. A tree of a million directories is watched as soon as its
// filesystem is marked, without a walk, without pinning an inode per
// directory in the kernel, and whatever fs.inotify.max_user_watches says.
// It needs CAP_SYS_ADMIN (the mark) and CAP_DAC_READ_SEARCH (resolving
// handles), and Linux 5.17 (a rename as one event, FAN_RENAME).
//
// The mark reports the whole filesystem: an event is resolved to its
// directory's current path (through a cache, so that most events of
// other directories are dropped by one map lookup) and handed to the
// Watcher of each tree it is in. One goroutine (the loop) owns the trees
// and the cache; another reads the group. Nothing is held open in a
// watched filesystem while the loop is idle, so it can be unmounted.
type Fanotify struct {
	log  zerolog.Logger
	fd   int
	file *os.File // fd, read through the Go poller

	reads    chan []fanEvent // from the reader
	stopRead chan struct{}   // closed when the loop ends
	readErr  error           // why reads was closed

	ctl  chan func() // work for the loop (see do)
	done chan struct{}
	err  error // why the loop ended, once done is closed

	// Owned by the loop.
	trees   map[string][]*Watcher // by resolved root (a reload may watch one twice for a while)
	parents map[string]int        // the directories that hold roots, and how many
	fss     map[[8]byte]*fanFS    // the marked filesystems, by fsid
	cache   map[string][]fanPlace
	batch   []Change
}

// fanFS is a marked filesystem: its trees' resolved roots, by mount (a
// handle is resolved through each mount that holds a tree, since a
// directory has one path per mount).
type fanFS struct {
	mounts map[uint64][]string
}

// fanPlace is a directory as one mount shows it: its current path, the
// trees it is in, with whether an excluded directory holds it in each,
// and whether some tree's root is one of its entries.
type fanPlace struct {
	dir        string
	trees      []*Watcher
	excluded   []bool
	rootParent bool
}

// fanMask is what a filesystem mark reports: entries made, deleted and
// renamed (a rename as one event with both names), files written and
// closed after writing, attributes changed; of directories too.
const fanMask = unix.FAN_CREATE | unix.FAN_DELETE | unix.FAN_RENAME | unix.FAN_MODIFY |
	unix.FAN_CLOSE_WRITE | unix.FAN_ATTRIB | unix.FAN_ONDIR

// fanCacheMax bounds the resolved directories kept; past it the cache
// starts again empty.
const fanCacheMax = 1 << 16

// fanReadBuf is the buffer of one read(2) of the group.
const fanReadBuf = 64 << 10

// FanotifyOptions configures a Fanotify.
type FanotifyOptions struct {
	// Logger receives what concerns the group rather than a tree.
	Logger zerolog.Logger
}

// NewFanotify makes the fanotify group; its loop ends with ctx. The error
// says, in words, why fanotify cannot be used here (no CAP_SYS_ADMIN, a
// kernel too old).
func NewFanotify(ctx context.Context, opts FanotifyOptions) (*Fanotify, error) {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK|unix.FAN_REPORT_DFID_NAME,
		unix.O_RDONLY|unix.O_LARGEFILE|unix.O_CLOEXEC)
	switch {
	case errors.Is(err, unix.EPERM):
		return nil, fmt.Errorf("fanotify needs CAP_SYS_ADMIN, which this process lacks (not root, or in a container without it): %w", err)
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		return nil, fmt.Errorf("this kernel's fanotify cannot report directory entries (Linux 5.17 or later is needed): %w", err)
	case err != nil:
		return nil, fmt.Errorf("fanotify_init: %w", err)
	}
	f := &Fanotify{log: opts.Logger, fd: fd, file: os.NewFile(uintptr(fd), "fanotify"),
		reads: make(chan []fanEvent, 64), stopRead: make(chan struct{}),
		ctl: make(chan func()), done: make(chan struct{}),
		trees: map[string][]*Watcher{}, parents: map[string]int{}, fss: map[[8]byte]*fanFS{}, cache: map[string][]fanPlace{}}
	go f.read()
	go f.run(ctx)
	return f, nil
}

// read reads the group until it is closed, handing the parsed events to
// the loop.
func (f *Fanotify) read() {
	defer close(f.reads)
	buf := make([]byte, fanReadBuf)
	for {
		n, err := f.file.Read(buf)
		if err != nil {
			f.readErr = err
			return
		}
		evs, err := parseFanEvents(buf[:n], nil)
		if err != nil {
			f.log.Error().Err(err).Msg("fanotify: unreadable event; what it said is lost")
		}
		select {
		case f.reads <- evs:
		case <-f.stopRead:
			return
		}
	}
}

// run is the loop: it handles events and work (do) until ctx is done,
// then hands on the events already read.
func (f *Fanotify) run(ctx context.Context) {
	defer close(f.done)
	defer func() {
		close(f.stopRead)
		_ = f.file.Close()
	}()
	for {
		select {
		case <-ctx.Done():
			f.drain()
			return
		case evs, ok := <-f.reads:
			if !ok {
				f.err = fmt.Errorf("fanotify stopped: %w", f.readErr)
				return
			}
			f.handle(evs)
		case fn := <-f.ctl:
			fn()
		}
	}
}

// drain handles the events already read.
func (f *Fanotify) drain() {
	for {
		select {
		case evs, ok := <-f.reads:
			if !ok {
				return
			}
			f.handle(evs)
		default:
			return
		}
	}
}

// do runs fn on the loop's goroutine and waits for it; it fails once the
// loop has ended.
func (f *Fanotify) do(fn func()) error {
	ran := make(chan struct{})
	select {
	case f.ctl <- func() { fn(); close(ran) }:
		<-ran
		return nil
	case <-f.done:
		if f.err != nil {
			return f.err
		}
		return errFanStopped
	}
}

// errFanStopped: the group's loop ended with its context.
var errFanStopped = errors.New("the fanotify group has stopped")

// add puts w's tree in the group, marking its filesystem unless marked
// already. Run on the loop.
func (f *Fanotify) add(w *Watcher) error {
	real, err := filepath.EvalSymlinks(w.root)
	if err != nil {
		return err
	}
	fsid, mnt, err := fsOf(real)
	if err != nil {
		return err
	}
	fs := f.fss[fsid]
	if fs == nil {
		if err := unix.FanotifyMark(f.fd, unix.FAN_MARK_ADD|unix.FAN_MARK_FILESYSTEM, fanMask, unix.AT_FDCWD, real); err != nil {
			return markError(real, err)
		}
		fs = &fanFS{mounts: map[uint64][]string{}}
		f.fss[fsid] = fs
	}
	fs.mounts[mnt] = append(fs.mounts[mnt], real)
	w.fanRoot, w.fanFS, w.fanMnt = real, fsid, mnt
	f.trees[real] = append(f.trees[real], w)
	f.parents[filepath.Dir(real)]++
	clear(f.cache)
	return nil
}

// markError explains why a filesystem cannot be marked.
func markError(root string, err error) error {
	switch {
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("fanotify cannot watch the filesystem of %s whole (a kernel older than 5.17 has no FAN_RENAME): %w", root, err)
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EXDEV):
		return fmt.Errorf("fanotify cannot report directory handles on the filesystem of %s (network, FUSE and some others cannot): %w", root, err)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("fanotify needs CAP_SYS_ADMIN to watch the filesystem of %s: %w", root, err)
	}
	return fmt.Errorf("fanotify_mark %s: %w", root, err)
}

// fsOf returns the fsid of the filesystem dir is on, as fanotify reports
// it, and the id of the mount it is reached through.
func fsOf(dir string) (fsid [8]byte, mnt uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fsid, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	fsid = fsidBytes(st.Fsid)
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &stx); err != nil {
		return fsid, 0, fmt.Errorf("statx %s: %w", dir, err)
	}
	return fsid, stx.Mnt_id, nil
}

func fsidBytes(id unix.Fsid) (b [8]byte) {
	binary.NativeEndian.PutUint32(b[0:4], uint32(id.Val[0]))
	binary.NativeEndian.PutUint32(b[4:8], uint32(id.Val[1]))
	return b
}

// leave takes w's tree out of the group, removing its filesystem's mark
// with the last tree on it. Run on the loop.
func (f *Fanotify) leave(w *Watcher) {
	ws := f.trees[w.fanRoot]
	i := slices.Index(ws, w)
	if i < 0 {
		return // left already
	}
	if ws = slices.Delete(ws, i, i+1); len(ws) > 0 {
		f.trees[w.fanRoot] = ws
	} else {
		delete(f.trees, w.fanRoot)
	}
	parent := filepath.Dir(w.fanRoot)
	if f.parents[parent]--; f.parents[parent] == 0 {
		delete(f.parents, parent)
	}
	clear(f.cache)
	fs := f.fss[w.fanFS]
	roots := fs.mounts[w.fanMnt]
	if i := slices.Index(roots, w.fanRoot); i >= 0 {
		roots = slices.Delete(roots, i, i+1)
	}
	if len(roots) > 0 {
		fs.mounts[w.fanMnt] = roots
		return
	}
	delete(fs.mounts, w.fanMnt)
	if len(fs.mounts) > 0 {
		return
	}
	delete(f.fss, w.fanFS)
	// The root may be gone, and then the mark stays until the
	// filesystem is unmounted or the group closed: its events are
	// dropped at intake meanwhile.
	if err := unix.FanotifyMark(f.fd, unix.FAN_MARK_REMOVE|unix.FAN_MARK_FILESYSTEM, fanMask, unix.AT_FDCWD, w.fanRoot); err != nil {
		f.log.Debug().Str("path", w.opts.Root).Err(err).Msg("fanotify: remove the filesystem's mark")
	}
}

// handle hands a read's events to their trees.
func (f *Fanotify) handle(evs []fanEvent) {
	mounts := map[uint64]int{} // opened for this read's misses, by mount id
	defer func() {
		for _, fd := range mounts {
			unix.Close(fd)
		}
	}()
	for _, ev := range evs {
		if ev.mask&unix.FAN_Q_OVERFLOW != 0 {
			f.overflowed()
			continue
		}
		isDir := ev.mask&unix.FAN_ONDIR != 0
		for _, r := range ev.recs {
			op := fanOp(ev.mask, r.kind)
			if op == 0 {
				continue
			}
			for _, p := range f.places(r, mounts) {
				f.deliver(p, r.name, op, isDir)
			}
		}
		// A directory renamed or deleted changes the paths below it:
		// those cached are stale.
		if isDir && ev.mask&(unix.FAN_RENAME|unix.FAN_DELETE|unix.FAN_MOVED_FROM) != 0 {
			clear(f.cache)
		}
	}
}

// fanOp maps an event's mask to our ops, for a record of kind: a rename
// is Rename for its old name and Create for its new one.
func fanOp(mask uint64, kind uint8) Op {
	switch kind {
	case recOld:
		return Rename
	case recNew:
		return Create
	}
	var op Op
	if mask&(unix.FAN_CREATE|unix.FAN_MOVED_TO) != 0 {
		op |= Create
	}
	if mask&unix.FAN_MODIFY != 0 {
		op |= Write
	}
	if mask&unix.FAN_CLOSE_WRITE != 0 {
		op |= CloseWrite
	}
	if mask&unix.FAN_DELETE != 0 {
		op |= Remove
	}
	if mask&unix.FAN_MOVED_FROM != 0 {
		op |= Rename
	}
	if mask&unix.FAN_ATTRIB != 0 {
		op |= Chmod
	}
	return op
}

// deliver hands the event of name in place's directory to each tree it
// is in, and to the tree whose root it is.
func (f *Fanotify) deliver(p fanPlace, name string, op Op, isDir bool) {
	full := p.dir
	if name != "" && name != "." {
		full = filepath.Join(p.dir, name)
	}
	for i, w := range p.trees {
		if p.excluded[i] {
			continue
		}
		f.batch = w.handleFan(w.fanRel(full), op, isDir, f.batch[:0])
		w.send(f.batch)
	}
	if p.rootParent && full != p.dir {
		for _, w := range f.trees[full] {
			f.batch = w.handleFan("", op, isDir, f.batch[:0])
			w.send(f.batch)
		}
	}
}

// places returns the directory of record r as each mount holding trees
// shows it, with the trees it is in, from the cache or resolved now; nil
// when it is in no tree, or gone (ESTALE).
func (f *Fanotify) places(r fanRecord, mounts map[uint64]int) []fanPlace {
	if ps, ok := f.cache[r.key]; ok {
		return ps
	}
	fs := f.fss[r.fsid]
	if fs == nil {
		return nil // a filesystem no longer marked
	}
	var ps []fanPlace
	for mnt, roots := range fs.mounts {
		dir, ok := f.resolve(r, mnt, roots[0], mounts)
		if !ok {
			continue
		}
		if p, ok := f.place(dir); ok {
			ps = append(ps, p)
		}
	}
	if len(f.cache) >= fanCacheMax {
		clear(f.cache)
	}
	f.cache[r.key] = ps
	return ps
}

// place returns what the loop needs to know of directory dir: false when
// no tree holds it and no root is in it.
func (f *Fanotify) place(dir string) (fanPlace, bool) {
	p := fanPlace{dir: dir, rootParent: f.parents[dir] > 0}
	for d := dir; ; d = filepath.Dir(d) {
		for _, w := range f.trees[d] {
			if !w.rootLost.Load() {
				p.trees = append(p.trees, w)
				p.excluded = append(p.excluded, w.dirExcluded(w.fanRel(dir)))
			}
		}
		if d == "/" || d == "." {
			break
		}
	}
	return p, len(p.trees) > 0 || p.rootParent
}

// resolve returns the current path of r's directory through mount mnt,
// opened at root (kept in mounts for the rest of the read); false when the
// directory is gone or cannot be reached through that mount.
func (f *Fanotify) resolve(r fanRecord, mnt uint64, root string, mounts map[uint64]int) (string, bool) {
	mfd, ok := mounts[mnt]
	if !ok {
		var err error
		mfd, err = openMount(root, r.fsid)
		if err != nil {
			f.log.Debug().Str("root", root).Err(err).Msg("fanotify: cannot open the tree's root to resolve a handle")
			return "", false
		}
		mounts[mnt] = mfd
	}
	fd, err := unix.OpenByHandleAt(mfd, unix.NewFileHandle(r.htype, r.hdl), unix.O_PATH|unix.O_CLOEXEC)
	if err != nil {
		if !errors.Is(err, unix.ESTALE) {
			f.log.Debug().Err(err).Msg("fanotify: cannot resolve a directory handle")
		}
		return "", false // gone: its removal covers what happened in it
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink == 0 {
		return "", false // deleted, still held open by someone
	}
	dir, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || !strings.HasPrefix(dir, "/") {
		return "", false // not reachable through this mount
	}
	return dir, true
}

// openMount opens a directory on the filesystem fsid to resolve handles
// with: root, or, should root be gone (removed with its tree), the
// nearest directory above it still on that filesystem. open_by_handle_at
// takes no O_PATH descriptor, so it is opened for reading, which
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
			return -1, fmt.Errorf("%s is no longer on the marked filesystem", dir)
		}
		if dir == "/" || dir == "." {
			return -1, err
		}
	}
}

// overflowed answers a lost event: every tree is synced whole.
func (f *Fanotify) overflowed() {
	clear(f.cache)
	for _, w := range f.allTrees() {
		w.overflows.Add(1)
		w.log.Warn().Str("path", w.opts.Root).Msg("fanotify queue overflowed; resyncing the whole tree")
		w.send([]Change{wholeTree})
	}
}

// allTrees returns every tree's Watcher.
func (f *Fanotify) allTrees() []*Watcher {
	var all []*Watcher
	for _, ws := range f.trees {
		all = append(all, ws...)
	}
	return all
}
