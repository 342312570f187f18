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
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Fanotify watches trees through fanotify: one group and one mark per
// filesystem that holds trees (FAN_MARK_FILESYSTEM), reporting each event
// as a directory's handle and an entry's name, with no watch per
// directory. A tree of a million directories is watched as soon as its
// filesystem is marked, without a walk, without pinning an inode per
// directory in the kernel, and whatever fs.inotify.max_user_watches says.
// It needs CAP_SYS_ADMIN (the mark) and CAP_DAC_READ_SEARCH (resolving
// handles), and Linux 5.17 (a rename as one event, FAN_RENAME).
//
// The mark reports the whole filesystem: each event's directory is
// resolved to its current path (fanResolver) and the event handed to the
// Watcher of each tree it is in. A group per filesystem keeps a queue per
// filesystem: one that overflows costs a resync of the trees there
// alone. One goroutine (the loop) owns the trees, the groups and the
// resolver; one more per group reads it. Nothing is held open in a
// watched filesystem while the loop waits, so it can be unmounted.
type Fanotify struct {
	log zerolog.Logger

	reads chan fanRead // from the groups' readers

	ctl  chan func() // work for the loop (see do)
	done chan struct{}
	err  error // why the loop ended, once done is closed

	// Owned by the loop.
	trees   map[string][]*Watcher // by resolved root (a reload may watch one twice for a while)
	parents map[string]int        // the directories that hold roots, and how many
	fss     map[[8]byte]*fanFS    // the marked filesystems, by fsid
	res     *fanResolver
	batch   []Change
	items   []fanItem
}

// fanFS is a marked filesystem: its group, and its trees' resolved roots
// by mount (a handle is resolved through each mount that holds a tree,
// since a directory has one path per mount).
type fanFS struct {
	fsid   [8]byte
	fd     int           // the group, for fanotify_mark while file is open
	file   *os.File      // the group, read through the Go poller
	closed chan struct{} // closed with the group: its reader stops
	mounts map[uint64][]string
}

// fanRead is one read of a group: its events, or why reading it failed.
type fanRead struct {
	fs  *fanFS
	evs []fanEvent
	err error
}

// fanMask is what a filesystem mark reports: entries made, deleted and
// renamed (a rename as one event with both names), files written and
// closed after writing, attributes changed; of directories too.
const fanMask = unix.FAN_CREATE | unix.FAN_DELETE | unix.FAN_RENAME | unix.FAN_MODIFY |
	unix.FAN_CLOSE_WRITE | unix.FAN_ATTRIB | unix.FAN_ONDIR

// fanReadBuf is the buffer of one read(2) of a group.
const fanReadBuf = 64 << 10

// fanReadPause is how long a group's reader waits before reading again
// when a read came soon after the one before and did not fill half the
// buffer: events arriving one at a time in a stream (a busy filesystem,
// most of whose events are of no tree) are then read in batches, not with
// one read(2) and one wakeup of the loop each. An event after a quiet
// spell is read at once; one in a stream waits at most this long.
const fanReadPause = 2 * time.Millisecond

// fanReadsQueued is how many parsed reads wait for the loop (a few
// thousand events each), from all groups: the kernel's own queues hold
// the rest.
const fanReadsQueued = 16

// The capabilities fanotify needs (capability.h).
const (
	capDacReadSearch = 2
	capSysAdmin      = 21
)

// FanotifyOptions configures a Fanotify.
type FanotifyOptions struct {
	// Logger receives what concerns fanotify rather than a tree.
	Logger zerolog.Logger
}

// NewFanotify checks that fanotify can be used here and starts the loop,
// which ends with ctx; the groups are made as trees are added. The error
// says, in words, why fanotify cannot be used (capabilities missing, a
// kernel too old).
func NewFanotify(ctx context.Context, opts FanotifyOptions) (*Fanotify, error) {
	if err := fanCapabilities(); err != nil {
		return nil, err
	}
	_, trial, err := newFanGroup()
	if err != nil {
		return nil, err
	}
	_ = trial.Close()
	f := &Fanotify{log: opts.Logger, reads: make(chan fanRead, fanReadsQueued),
		ctl: make(chan func()), done: make(chan struct{}),
		trees: map[string][]*Watcher{}, parents: map[string]int{}, fss: map[[8]byte]*fanFS{}, res: newFanResolver()}
	go f.run(ctx)
	return f, nil
}

// newFanGroup makes a fanotify group that reports directory entries: its
// descriptor, for fanotify_mark (File.Fd would make reads block), and a
// File of it for reading.
func newFanGroup() (int, *os.File, error) {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK|unix.FAN_REPORT_DFID_NAME,
		unix.O_RDONLY|unix.O_LARGEFILE|unix.O_CLOEXEC)
	switch {
	case errors.Is(err, unix.EPERM):
		return 0, nil, fmt.Errorf("fanotify needs CAP_SYS_ADMIN, which this process lacks (not root, or in a container without it): %w", err)
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		return 0, nil, fmt.Errorf("this kernel's fanotify cannot report directory entries (Linux 5.17 or later is needed): %w", err)
	case errors.Is(err, unix.EMFILE):
		return 0, nil, fmt.Errorf("fanotify takes a group per filesystem, and this user has as many as fs.fanotify.max_user_groups allows (128 by default; raise it, or set watcher = \"inotify\"): %w", err)
	case err != nil:
		return 0, nil, fmt.Errorf("fanotify_init: %w", err)
	}
	return fd, os.NewFile(uintptr(fd), "fanotify"), nil
}

// fanCapabilities fails unless the process has the capabilities that a
// filesystem mark and resolving its handles need: since Linux 5.13 an
// unprivileged fanotify group can be made, but not so marked.
func fanCapabilities() error {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fmt.Errorf("fanotify: cannot read this process's capabilities: %w", err)
	}
	for _, ln := range strings.Split(string(data), "\n") {
		hex, ok := strings.CutPrefix(ln, "CapEff:")
		if !ok {
			continue
		}
		eff, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			break
		}
		if eff&(1<<capSysAdmin) == 0 || eff&(1<<capDacReadSearch) == 0 {
			return errors.New("fanotify needs root: CAP_SYS_ADMIN to watch a whole filesystem and CAP_DAC_READ_SEARCH to turn its directory handles into paths, which this process lacks")
		}
		return nil
	}
	return errors.New("fanotify: cannot tell this process's capabilities (no CapEff in /proc/self/status)")
}

// read reads fs's group until it is closed, handing each read to the
// loop. A failed read is handed on unless the group was closed meanwhile.
func (f *Fanotify) read(fs *fanFS) {
	buf := make([]byte, fanReadBuf)
	pace := &readPacer{timer: time.NewTimer(0)}
	<-pace.timer.C
	for {
		n, err := fs.file.Read(buf)
		now := time.Now()
		if err != nil && fs.isClosed() {
			return
		}
		select {
		case f.reads <- f.parsed(fs, buf[:n], err):
		case <-fs.closed:
			return
		}
		if err != nil || !pace.wait(n, now, fs.closed) {
			return
		}
	}
}

// parsed is what the loop gets for a read of fs that returned buf and
// err. What cannot be parsed is answered as an overflow: the trees on fs
// are synced whole.
func (f *Fanotify) parsed(fs *fanFS, buf []byte, err error) fanRead {
	if err != nil {
		return fanRead{fs: fs, err: err}
	}
	evs, perr := parseFanEvents(buf, nil)
	if perr != nil {
		f.log.Error().Err(perr).Msg("fanotify: unreadable event; every tree on its filesystem is synced whole")
		evs = append(evs, fanEvent{mask: unix.FAN_Q_OVERFLOW})
	}
	return fanRead{fs: fs, evs: evs}
}

// readPacer holds a group's reader back while its events come in a
// stream (see fanReadPause). It belongs to the reader's goroutine.
type readPacer struct {
	timer *time.Timer
	last  time.Time // when the reader last went back to reading
}

// wait waits out fanReadPause when the read of n bytes that returned at
// now came in a stream (within fanReadPause of the reader going back to
// reading); it returns false if done is closed meanwhile.
func (p *readPacer) wait(n int, now time.Time, done <-chan struct{}) bool {
	stream := n < fanReadBuf/2 && now.Sub(p.last) < fanReadPause
	p.last = now
	if !stream {
		return true
	}
	p.timer.Reset(fanReadPause)
	select {
	case <-p.timer.C:
		p.last = time.Now()
		return true
	case <-done:
		return false
	}
}

// Done is closed once the loop has ended (its context is done, or a group
// could not be read) and every group is closed.
func (f *Fanotify) Done() <-chan struct{} { return f.done }

// run is the loop: it handles events and work (do) until ctx is done,
// then hands on the events already read.
func (f *Fanotify) run(ctx context.Context) {
	defer close(f.done)
	defer func() {
		for _, fs := range f.fss {
			fs.close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			f.drain()
			return
		case r := <-f.reads:
			if !f.took(r) {
				return
			}
		case fn := <-f.ctl:
			fn()
			if f.err != nil {
				return // fn drained a group that could not be read
			}
		}
	}
}

// took handles a read; false ends the loop, when a group that is still
// in use could not be read.
func (f *Fanotify) took(r fanRead) bool {
	if f.fss[r.fs.fsid] != r.fs {
		return true // a group closed since: its trees left
	}
	if r.err != nil {
		f.err = fmt.Errorf("fanotify stopped: %w", r.err)
		return false
	}
	f.handle(r.fs, r.evs)
	return true
}

// drain handles the events already read.
func (f *Fanotify) drain() {
	for {
		select {
		case r := <-f.reads:
			if !f.took(r) {
				return
			}
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

// errFanStopped: the loop ended with its context.
var errFanStopped = errors.New("the fanotify group has stopped")

// add puts w's tree in its filesystem's group (made and marked on the
// first tree there). Run on the loop.
// A tree with other filesystems (or bind mounts) mounted inside it is
// refused: the mark covers one filesystem, and handles resolve through
// the root's mount only.
func (f *Fanotify) add(w *Watcher) error {
	real, err := filepath.EvalSymlinks(w.root)
	if err != nil {
		return err
	}
	if inside := mountsBelow(real, readMounts()); len(inside) > 0 {
		return fmt.Errorf("fanotify watches one filesystem per tree, and %s has %s mounted inside it; set watcher = \"inotify\" (or \"auto\", which uses inotify for this tree)", real, strings.Join(inside, ", "))
	}
	fsid, mnt, err := fsOf(real)
	if err != nil {
		return err
	}
	id, err := statDir(real)
	if err != nil {
		return err
	}
	fs := f.fss[fsid]
	if fs == nil {
		fd, file, err := newFanGroup()
		if err != nil {
			return err
		}
		fs = &fanFS{fsid: fsid, fd: fd, file: file, closed: make(chan struct{}), mounts: map[uint64][]string{}}
	}
	// Marked again every time: the filesystem may have been unmounted
	// and mounted again since (a mark is the superblock's).
	err = unix.FanotifyMark(fs.fd, unix.FAN_MARK_ADD|unix.FAN_MARK_FILESYSTEM, fanMask, unix.AT_FDCWD, real)
	if err == nil {
		if err = probeResolve(real, fsid); err != nil {
			err = fmt.Errorf("fanotify cannot turn the directory handles of %s into paths: %w", real, err)
		}
	} else {
		err = markError(real, err)
	}
	if err != nil {
		if f.fss[fsid] == nil {
			fs.close()
		}
		return err
	}
	if f.fss[fsid] == nil {
		f.fss[fsid] = fs
		go f.read(fs)
	}
	fs.mounts[mnt] = append(fs.mounts[mnt], real)
	w.fanRoot, w.fanFS, w.fanMnt, w.fanRootID = real, fsid, mnt, id
	f.trees[real] = append(f.trees[real], w)
	f.parents[filepath.Dir(real)]++
	f.res.invalidate()
	return nil
}

// mountsBelow returns the mount points strictly below dir.
func mountsBelow(dir string, mounts []mount) []string {
	var inside []string
	for _, m := range mounts {
		if m.point != dir && under(dir, m.point) {
			inside = append(inside, m.point)
		}
	}
	return inside
}

// markError explains why a filesystem cannot be marked.
func markError(root string, err error) error {
	switch {
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("fanotify cannot watch the filesystem of %s whole (a kernel older than 5.17 has no FAN_RENAME): %w", root, err)
	case errors.Is(err, unix.EXDEV):
		return fmt.Errorf("fanotify cannot watch %s: it is on a btrfs subvolume or a filesystem without a filesystem id of its own: %w", root, err)
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("fanotify cannot report directory handles on the filesystem of %s (NFS, FUSE and some others cannot): %w", root, err)
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

// leave takes w's tree out of its filesystem's group, closing the group
// (and so its mark) with the last tree on it. Run on the loop.
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
	f.res.invalidate()
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
	fs.close()
}

// close closes fs's group, which removes its mark; its reader stops.
func (fs *fanFS) close() {
	close(fs.closed)
	_ = fs.file.Close()
}

// isClosed says whether fs's group was closed.
func (fs *fanFS) isClosed() bool {
	select {
	case <-fs.closed:
		return true
	default:
		return false
	}
}

// fanItem is one thing a read asks of the trees, in the order of the
// events: a record's places to deliver its name to, or a whole
// filesystem's trees to sync whole (an overflow of its group, or a handle
// that could not be resolved).
type fanItem struct {
	places []fanPlace
	name   string
	op     Op
	isDir  bool
	from   []string // a rename's new name: the old name's paths
	lost   *fanFS   // the filesystem whose handle could not be resolved
	err    error
	all    bool   // every tree of the group's filesystem: an overflow
	gone   *fanFS // a directory gone already lost one of its own: check the roots here
}

// handle hands a read's events to their trees: first every handle is
// resolved (the mounts it opens are closed before anything is handed on,
// so that a slow consumer keeps no filesystem busy), then the trees get
// the events in order.
func (f *Fanotify) handle(fs *fanFS, evs []fanEvent) {
	items := f.items[:0]
	for _, ev := range evs {
		items = f.resolveEvent(ev, items)
	}
	f.res.close()
	var checked map[*fanFS]bool // the filesystems whose roots were checked
	for _, it := range items {
		switch {
		case it.all:
			f.overflowed(fs)
		case it.lost != nil:
			f.unresolved(it.lost, it.err)
		case it.gone != nil:
			if !checked[it.gone] {
				if checked == nil {
					checked = map[*fanFS]bool{}
				}
				checked[it.gone] = true
				f.checkRoots(it.gone)
			}
		default:
			for _, p := range it.places {
				f.deliver(p, it.name, it.op, it.isDir, it.from)
			}
		}
	}
	clear(items)
	f.items = items[:0]
}

// resolveEvent appends what event ev asks of the trees to items.
func (f *Fanotify) resolveEvent(ev fanEvent, items []fanItem) []fanItem {
	if ev.mask&unix.FAN_Q_OVERFLOW != 0 || len(ev.recs) == 0 {
		// Lost events, or one with no name to go by.
		return append(items, fanItem{all: true})
	}
	isDir := ev.mask&unix.FAN_ONDIR != 0
	var from []string // the old name of a rename, as each mount shows it
	for _, r := range ev.recs {
		op := fanOp(ev.mask, r.kind)
		fs := f.fss[r.fsid]
		if op == 0 || fs == nil {
			continue // a filesystem no longer marked
		}
		ps, gone, err := f.res.places(r, fs, f.place)
		switch {
		case err != nil:
			items = append(items, fanItem{lost: fs, err: err})
		case gone && isDir && op&(Remove|Rename) != 0:
			// A directory removed or renamed in one that is gone
			// already: a root below it may be gone too.
			items = append(items, fanItem{gone: fs})
		case len(ps) > 0:
			it := fanItem{places: ps, name: r.name, op: op, isDir: isDir}
			if r.kind == recNew {
				it.from = from
			}
			items = append(items, it)
		}
		if r.kind == recOld {
			for _, p := range ps {
				from = append(from, filepath.Join(p.dir, r.name))
			}
		}
	}
	// A directory renamed changes the paths below it: those resolved are
	// stale.
	if isDir && ev.mask&unix.FAN_RENAME != 0 {
		f.res.invalidate()
	}
	return items
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
	if mask&unix.FAN_CREATE != 0 {
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
	if mask&unix.FAN_ATTRIB != 0 {
		op |= Chmod
	}
	return op
}

// place returns what the loop needs to know of directory dir: false when
// no tree holds it and no root is in it.
func (f *Fanotify) place(dir string) (fanPlace, bool) {
	p := fanPlace{dir: dir, rootParent: f.parents[dir] > 0}
	for root := range f.trees {
		if root != dir && under(dir, root) {
			p.rootBelow = true
			break
		}
	}
	for d := dir; ; d = filepath.Dir(d) {
		for _, w := range f.trees[d] {
			if !w.rootLost.Load() {
				p.trees = append(p.trees, fanHit{w: w, excluded: w.dirExcluded(w.fanRel(dir))})
			}
		}
		if d == "/" || d == "." {
			break
		}
	}
	return p, len(p.trees) > 0 || p.rootBelow
}

// deliver hands the event of name in place's directory to each tree it
// is in (with the old name, from, of a rename within the tree), and to
// the tree whose root it is; a directory removed or renamed away above a
// root takes that tree's root with it.
func (f *Fanotify) deliver(p fanPlace, name string, op Op, isDir bool, from []string) {
	full := p.dir
	if name != "" && name != "." {
		full = filepath.Join(p.dir, name)
	}
	for _, h := range p.trees {
		if h.excluded {
			continue
		}
		old := ""
		for _, o := range from {
			if o != h.w.fanRoot && under(h.w.fanRoot, o) {
				old = h.w.fanRel(o)
			}
		}
		f.batch = h.w.handleFan(h.w.fanRel(full), op, isDir, old, f.batch[:0])
		h.w.send(f.batch)
	}
	if full == p.dir {
		return
	}
	if p.rootParent {
		for _, w := range f.trees[full] {
			f.send(w, "", op, isDir)
		}
	}
	if p.rootBelow && isDir && op&(Remove|Rename) != 0 {
		for root, ws := range f.trees {
			if root != full && under(full, root) {
				for _, w := range ws {
					f.send(w, "", op&(Remove|Rename), true)
				}
			}
		}
	}
}

// send hands one event of w's tree to it.
func (f *Fanotify) send(w *Watcher, rel string, op Op, isDir bool) {
	f.batch = w.handleFan(rel, op, isDir, "", f.batch[:0])
	w.send(f.batch)
}

// checkRoots reports the roots on fs that are no longer the directories
// that were watched: removed or renamed away with a directory above them
// whose event could not be resolved.
func (f *Fanotify) checkRoots(fs *fanFS) {
	for _, w := range f.treesOn(fs) {
		if id, err := statDir(w.fanRoot); err != nil || id != w.fanRootID {
			f.send(w, "", Remove, true)
		}
	}
}

// unresolved answers an event whose directory could not be resolved (err):
// every tree on its filesystem is synced whole, since it may have been in
// any of them.
func (f *Fanotify) unresolved(fs *fanFS, err error) {
	f.res.invalidate()
	for _, w := range f.treesOn(fs) {
		w.log.Warn().Str("path", w.opts.Root).Err(err).Msg("fanotify: an event could not be placed; resyncing the whole tree")
		w.send([]Change{wholeTree})
	}
}

// overflowed answers events lost from fs's group: every tree on fs is
// synced whole.
func (f *Fanotify) overflowed(fs *fanFS) {
	f.res.invalidate()
	for _, w := range f.treesOn(fs) {
		w.overflows.Add(1)
		w.log.Warn().Str("path", w.opts.Root).
			Msg("fanotify queue overflowed (fs.fanotify.max_queued_events); resyncing the whole tree")
		w.send([]Change{wholeTree})
	}
}

// treesOn returns the Watchers of the trees on fs, each once (a root that
// a reload watches twice for a while is listed twice in fs.mounts).
func (f *Fanotify) treesOn(fs *fanFS) []*Watcher {
	var out []*Watcher
	for _, ws := range f.trees {
		for _, w := range ws {
			if w.fanFS == fs.fsid {
				out = append(out, w)
			}
		}
	}
	return out
}
