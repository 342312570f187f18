package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// Op is a bit set of what happened to a path, mapped from fsnotify's ops
// (see the package documentation for the inotify names behind each bit).
type Op uint32

// The bits of an Op.
const (
	Create     Op = 1 << iota // created, or moved in (IN_CREATE, IN_MOVED_TO)
	Write                     // written (IN_MODIFY)
	Remove                    // deleted (IN_DELETE, IN_DELETE_SELF)
	Rename                    // moved away (IN_MOVED_FROM, IN_MOVE_SELF)
	Chmod                     // attributes changed (IN_ATTRIB)
	CloseWrite                // closed after writing (IN_CLOSE_WRITE; fanotify only)
)

// String returns the set bits as upper-case names joined by "|", as
// fsnotify prints them, e.g. "CREATE|WRITE".
func (op Op) String() string {
	if op == 0 {
		return "0"
	}
	names := [...]string{"CREATE", "WRITE", "REMOVE", "RENAME", "CHMOD", "CLOSE_WRITE"}
	var b strings.Builder
	for i, name := range names {
		if op&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(name)
	}
	if rest := op &^ (1<<len(names) - 1); rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "0x%x", uint32(rest))
	}
	return b.String()
}

// fromFsnotify maps an fsnotify op to ours; ops we do not know map to 0.
func fromFsnotify(o fsnotify.Op) Op {
	var op Op
	if o.Has(fsnotify.Create) {
		op |= Create
	}
	if o.Has(fsnotify.Write) {
		op |= Write
	}
	if o.Has(fsnotify.Remove) {
		op |= Remove
	}
	if o.Has(fsnotify.Rename) {
		op |= Rename
	}
	if o.Has(fsnotify.Chmod) {
		op |= Chmod
	}
	return op
}

// recursiveOps are the ops that, on a directory, mean "this whole subtree
// changed": a new directory (possibly moved in with content), or one that
// was removed or moved away.
const recursiveOps = Create | Remove | Rename

// Change is one change under a tree.
type Change struct {
	// Rel is the path relative to the tree's root, '/'-separated, with no
	// leading '/'; "" is the root itself.
	Rel string
	// Op says what happened.
	Op Op
	// IsDir is true when the path is (or, for Remove and Rename, was) a
	// directory. A Create, Remove or Rename of a directory stands for its
	// whole subtree: the consumer syncs it recursively.
	IsDir bool
	// Quiet is true for an op outside Options.Trigger: the path is to be
	// synced with the next batch, but starts none itself.
	Quiet bool
	// From is, for the Create of a rename's new name, the old name when
	// it was in the same tree (fanotify reports both at once; for inotify
	// fsnotify pairs them, see renamedFrom): the target still has From's
	// content, which the consumer may copy there instead of sending it
	// again.
	From string
}

// Options configures a Watcher.
type Options struct {
	// Root is the directory to watch. It is cleaned (and made absolute)
	// for fsnotify; changes report paths relative to it only. It may be a
	// symbolic link to a directory; links below it are not followed.
	Root string
	// Trigger is the set of ops on files that are reported (from emask).
	// Directory bookkeeping (new, removed and renamed directories, an
	// overflow) is reported whatever Trigger says.
	Trigger Op
	// Exclude, if not nil, is called with a path relative to Root for every
	// directory before it is watched and for every event. An excluded
	// directory is never watched, so nothing under it is reported; an
	// excluded path's events are dropped.
	Exclude func(rel string, isDir bool) bool
	// Filter, if not nil, is asked about every change before it is sent
	// (except a change of the root, which stands for the whole tree);
	// false drops it. Watching is not affected: a filtered-out new
	// directory is still watched.
	Filter func(Change) bool
	// Logger receives a Debug line per event, a Warn line per overflow and
	// an Error line per failure. Every line carries the field "path" (Root).
	Logger zerolog.Logger
	// Pace, if positive, batches the intake of a stream of events: once
	// events come each within Pace of the one before (a writer making
	// files, not a rewrite of one), Run hands on what it has read and then
	// waits Pace before it takes the next events, all at once, instead of
	// handing on every one as it comes: fewer batches and hand-offs between
	// goroutines in a burst (bench/findings.md). A lone change is not
	// delayed. 0 turns it off.
	Pace time.Duration
	// Clock is the source of time for Pace; nil means SystemClock.
	Clock Clock
	// Shared, if not nil, puts the watches in an inotify instance shared
	// with other trees, whose own Pace and Clock then apply; nil gives
	// the Watcher one of its own.
	Shared *Shared
	// Fanotify, if not nil, watches the tree through that fanotify group
	// instead of inotify (Shared is then not used): no walk and no watch
	// per directory, and CloseWrite is reported.
	Fanotify *Fanotify
}

// eventBuffer is the capacity of fsnotify's Events channel: a burst is
// taken off the kernel queue while we are busy walking a new directory.
const eventBuffer = 4096

// Watcher watches one tree recursively: one fsnotify watch per directory
// that is not excluded, kept up to date as directories come and go; or,
// with Options.Fanotify, its share of a fanotify group's events.
//
// Only the goroutine that reads its inotify instance (Run's, or a shared
// instance's) touches the watch table, also during New's walk; Watches
// may be called from anywhere.
type Watcher struct {
	root string // cleaned absolute root
	opts Options
	log  zerolog.Logger
	in   *inotify  // its own, or one it shares (opts.Shared); nil with fan
	fan  *Fanotify // opts.Fanotify

	// With fan: the root with its symbolic links resolved (the paths
	// fanotify gives are), its filesystem and its mount.
	fanRoot   string
	fanFS     [8]byte
	fanMnt    uint64
	fanRootID dirID // the directory the root was when watched

	dirs  *dirTable // owned by the instance's loop
	list  lister    // the walks' buffer, owned as dirs is
	stack []string  // the walks' stack, owned as dirs is

	// Owned by the instance's loop: out is nil until Run starts; pending
	// keeps the changes that come before (see send).
	out     chan<- Change
	pending []Change
	// ended is closed when a shared instance's loop gave up on the tree
	// (its root could not be watched again after an overflow); endErr
	// says why.
	ended  chan struct{}
	endErr error

	watches   atomic.Int64
	running   atomic.Bool
	events    atomic.Uint64 // events read from the kernel
	overflows atomic.Uint64 // kernel queue overflows
	noLeases  atomic.Bool   // the tree's file system has no leases (see settled)
	rootLost  atomic.Bool   // the root was removed or moved away: nothing is watched
}

// RootLost reports whether the watcher saw its root removed or moved away:
// it then watches nothing, even if a directory comes back at the same
// place with the same inode (ext4 reuses them). Any goroutine may call it.
func (w *Watcher) RootLost() bool { return w.rootLost.Load() }

// Settled reports whether the pending file f has settled: its write is
// over, and every change it had was already taken in. It has, when it is
// gone or not a regular file; otherwise when its change time is not later
// than f.Seen (to the file system's timestamp granularity), nothing
// suggests that a write event is still on its way, and no process has it
// open for writing. false also means "cannot tell" (see settled). It reads
// nothing of the Watcher but its root and an atomic flag, so any goroutine
// may call it (it is CoalesceOptions.Settled in the daemon).
func (w *Watcher) Settled(f Settling) bool {
	return settled(w.full(f.Rel), f, &w.noLeases)
}

// Writing reports whether some process has the file rel open for writing
// (CoalesceOptions.Writing): false also when that cannot be told. Any
// goroutine may call it.
func (w *Watcher) Writing(rel string) bool {
	return openForWriting(w.full(rel), &w.noLeases)
}

// New walks the tree of opts.Root and adds a watch for every directory
// that is not excluded, in an inotify instance of its own or, with
// opts.Shared, in a shared one. Symbolic links to directories are not
// followed. With opts.Fanotify there is no walk: the tree joins the
// fanotify group, which marks its filesystem.
//
// Errors name the directory concerned. Hitting the kernel's limits gives
// an error saying which sysctl to raise (the wrapped errno, ENOSPC or
// EMFILE, stays reachable with errors.Is).
func New(opts Options) (*Watcher, error) {
	if opts.Root == "" {
		return nil, errors.New("watch: no root directory given")
	}
	root, err := filepath.Abs(opts.Root) // Abs cleans too
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", opts.Root, err)
	}
	fi, err := os.Stat(root) // the root itself may be a symlink
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("watch %s: not a directory", root)
	}
	w := &Watcher{root: root, opts: opts, log: opts.Logger, dirs: newDirTable(), ended: make(chan struct{})}
	// A write starts a sync where a close after writing does: inotify
	// reports no close, and with fanotify a file written and never closed
	// (a log) must not wait for ever. The consumer holds a file back while
	// it is open for writing (CoalesceOptions.Writing), up to its bound.
	if w.opts.Trigger&CloseWrite != 0 {
		w.opts.Trigger |= Write
	}
	if opts.Fanotify != nil {
		w.fan = opts.Fanotify
		if err := w.newFan(); err != nil {
			return nil, err
		}
		return w, nil
	}
	if w.opts.Shared == nil {
		w.in, err = newInotify(root, w.log.With().Str("path", opts.Root).Logger(), opts.Pace, opts.Clock, false)
	} else {
		w.in, err = w.opts.Shared.place(w)
	}
	if err != nil {
		return nil, err
	}
	// The walk is the loop's work, in order with the events of the other
	// trees in a shared instance: a directory moved in from another tree
	// is unwatched there first. From its first watch on, the tree's
	// events are handled, and their changes kept until Run.
	var werr error
	err = w.in.do(func() {
		w.in.trees[w.root] = w
		if werr = w.watchWholeTree(w.in.fsw.Load(), w.startAddError); werr != nil && w.opts.Shared != nil {
			w.leave()
		}
	})
	if err == nil {
		err = werr
	} else {
		err = fmt.Errorf("watch %s: %w", root, err)
	}
	if err != nil {
		w.release()
		return nil, err
	}
	return w, nil
}

// release gives up w's inotify instance: a Shared one's place, or its own.
func (w *Watcher) release() {
	if w.opts.Shared == nil {
		w.in.close()
		return
	}
	w.opts.Shared.release(w)
}

// Watches returns the number of directories watched (0 with fanotify,
// which watches none by itself). It is safe to call at any time, also
// while Run is going.
func (w *Watcher) Watches() int { return int(w.watches.Load()) }

// Events returns the number of events read from the kernel so far; any
// goroutine may call it.
func (w *Watcher) Events() uint64 { return w.events.Load() }

// Close releases the watches of a Watcher that was never Run (one made
// for a reload that then failed); Run releases its own when it returns.
// After Close, Run returns an error.
func (w *Watcher) Close() {
	if !w.running.CompareAndSwap(false, true) {
		return
	}
	if w.fan != nil {
		_ = w.fan.do(func() { w.fan.leave(w) })
		return
	}
	if w.opts.Shared != nil {
		_ = w.in.do(w.leave)
	}
	w.release()
}

// Overflows returns the number of times the kernel's event queue
// overflowed (each answered by a full sync); any goroutine may call it.
func (w *Watcher) Overflows() uint64 { return w.overflows.Load() }

// Run keeps the watches in step with the tree and sends the changes to
// out, until ctx is done; then it hands on what was already read and
// returns nil, releasing the watches. It may be called once. It returns
// an error only if watching cannot go on (fsnotify stopped, or it could
// not be recreated after an overflow).
//
// Sends to out block, so a consumer that must never hold up the kernel
// queue (shared with other trees' Watchers, with Options.Shared) should
// read out at once (Coalesce does); if the queue overflows meanwhile, the
// whole tree is reported ("" as a directory) after the watches are
// rebuilt, so nothing is lost.
//
// What is reported:
//   - a new directory (created or moved in): its whole subtree is watched
//     first, then Change{dir, Create, true} is sent, so files made in it
//     before its watch existed are covered by the recursive sync;
//   - a watched directory removed or moved away: every watch at or below it
//     is dropped, then Change{dir, Remove or Rename, true} is sent; its new
//     name, if in the tree, arrives as a new directory;
//   - the root removed or moved away: an Error is logged, every watch is
//     dropped and Change{"", op, true} is sent; the root is not re-added;
//   - an overflowed kernel queue: a Warn is logged, the watches are rebuilt
//     from scratch and Change{"", Create, true} is sent;
//   - anything else, when its op is in Options.Trigger.
//
// Events reported by a watch whose directory was renamed before we knew
// (their paths name the old location) are reported as they come: the new
// location is covered by the Create of the renamed directory.
func (w *Watcher) Run(ctx context.Context, out chan<- Change) error {
	if !w.running.CompareAndSwap(false, true) {
		return fmt.Errorf("watch %s: Run called twice", w.root)
	}
	if w.fan != nil {
		return w.runFan(ctx, out)
	}
	if w.opts.Shared == nil {
		w.start(out)
		if err := w.in.run(ctx); err != nil {
			return fmt.Errorf("watch %s: %w", w.root, err)
		}
		return nil
	}
	defer w.opts.Shared.release(w)
	if err := w.in.do(func() { w.start(out) }); err != nil {
		return fmt.Errorf("watch %s: %w", w.root, err)
	}
	select {
	case <-ctx.Done():
		// Already read events of the tree are handed on first.
		_ = w.in.do(func() {
			w.in.drain()
			w.leave()
		})
		return nil
	case <-w.ended:
		return w.endErr
	case <-w.in.done:
		if w.in.err == nil {
			return nil // the daemon stops
		}
		return fmt.Errorf("watch %s: %w", w.root, w.in.err)
	}
}

// start makes w's changes go to out from now on, those that came before
// first.
func (w *Watcher) start(out chan<- Change) {
	w.out = out
	for _, c := range w.pending {
		out <- c
	}
	w.pending = nil
}

// pendingMax bounds the changes kept for a Watcher that is not running
// yet; beyond it they are replaced by one change of the whole tree.
const pendingMax = 1 << 14

// send hands changes on to out, except those Options.Filter drops; before
// Run has started, they are kept for it.
func (w *Watcher) send(batch []Change) {
	// A change read from the kernel is always handed on, also when
	// stopping: the consumer reads until out is closed.
	for _, c := range batch {
		if c.Rel != "" && w.opts.Filter != nil && !w.opts.Filter(c) {
			continue
		}
		switch {
		case w.out != nil:
			w.out <- c
		case len(w.pending) == 1 && w.pending[0] == wholeTree:
			// covers c
		case len(w.pending) < pendingMax:
			w.pending = append(w.pending, c)
		default:
			w.pending = append(w.pending[:0], wholeTree)
		}
	}
}

// wholeTree is the change that makes the consumer sync the whole tree.
var wholeTree = Change{Rel: "", Op: Create, IsDir: true}

// leave takes w off its instance: no event goes to it any more, and its
// watches are dropped.
func (w *Watcher) leave() {
	delete(w.in.trees, w.root)
	w.unwatchTree("")
	w.out = nil
}

// fail ends w's Run with err (a shared instance's loop gave up on it).
func (w *Watcher) fail(err error) {
	w.leave()
	w.endErr = err
	close(w.ended)
}

// handle turns one fsnotify event into changes, appended to buf, and
// updates the watch table.
func (w *Watcher) handle(ev fsnotify.Event, buf []Change) []Change {
	w.events.Add(1)
	op := fromFsnotify(ev.Op)
	rel, ok := w.relOf(ev.Name)
	if !ok || op == 0 {
		w.log.Debug().Str("path", w.opts.Root).Str("name", ev.Name).Str("op", ev.Op.String()).
			Msg("event ignored")
		return buf
	}
	if e := w.log.Debug(); e.Enabled() { // spare op.String() when not debugging
		e.Str("path", w.opts.Root).Str("rel", rel).Str("op", op.String()).Msg("event")
	}

	if rel == "" {
		if op&(Remove|Rename) != 0 {
			w.log.Error().Str("path", w.opts.Root).Str("op", op.String()).Msg("watched directory disappeared")
			w.unwatchTree("")
			w.rootLost.Store(true)
			return append(buf, Change{Rel: "", Op: op, IsDir: true})
		}
		if op&w.opts.Trigger != 0 {
			buf = append(buf, Change{Rel: "", Op: op, IsDir: true})
		}
		return buf
	}

	// fsnotify drops IN_ISDIR: for a removed or renamed path our table is
	// the only memory of what it was.
	isDir := w.dirs.has(rel)
	if isDir && op&(Remove|Rename) != 0 {
		w.unwatchTree(rel)
		if w.excluded(rel, true) {
			return buf
		}
		return append(buf, Change{Rel: rel, Op: op, IsDir: true})
	}
	if op&Create != 0 {
		fi, err := os.Lstat(w.full(rel))
		isDir = err == nil && fi.IsDir() // a symlink to a dir is a file to us; a vanished path too
		if isDir {
			if w.excluded(rel, true) {
				return buf
			}
			// A Create from a watch that still reports a renamed-away path
			// has no watched parent: do not watch under a stale name (the
			// rename target is walked when its own Create arrives).
			if w.dirs.has(parentOf(rel)) {
				_ = w.watchTree(w.in.fsw.Load(), rel, w.logAddError)
			}
			return append(buf, Change{Rel: rel, Op: op, IsDir: true, From: w.fromRel(ev, true)})
		}
	}
	if op&Chmod != 0 && !isDir && w.dirs.has(parentOf(rel)) && w.watchReadable(rel) {
		// As a new directory: what changed in it while it could not be
		// read is synced whole.
		return append(buf, Change{Rel: rel, Op: op | Create, IsDir: true})
	}
	if w.excluded(rel, isDir) {
		return buf
	}
	if op&(Remove|Rename) != 0 && w.excluded(rel, true) {
		// Gone, and not in the table: it was a file, or a directory left
		// out, which is never watched. A rule for directories only
		// ("cache/") tells them apart, and a list run naming a gone
		// directory would delete the node's copy, which the rule keeps.
		// So the change is dropped; a file of that name stays on the node
		// until a full sync that deletes.
		return buf
	}
	// An op outside Trigger starts no sync, but is not forgotten: the
	// path goes out with the next batch that something else starts (the
	// mask decides when to sync, not what).
	return append(buf, Change{Rel: rel, Op: op, IsDir: isDir, Quiet: op&w.opts.Trigger == 0, From: w.fromRel(ev, false)})
}

// rewatch rebuilds w's watches from scratch in its instance's new
// fsnotify watcher after an overflow, and reports the whole tree. A
// failure to watch a directory is logged (logAddError) and the walk goes
// on, or stops at the watch limit. But a root that cannot be watched
// leaves nothing watched, and nothing would ever start a sync again: that
// is returned.
func (w *Watcher) rewatch() error {
	w.dirs = newDirTable()
	w.watches.Store(0)
	err := w.watchWholeTree(w.in.fsw.Load(), w.logAddError)
	if !w.dirs.has("") {
		if err == nil {
			err = errors.New("it is gone or cannot be read")
		}
		return fmt.Errorf("cannot watch the root again after the overflow: %w", err)
	}
	w.send([]Change{wholeTree})
	return nil
}

// watchWholeTree is watchTree for the root, with the paths in an arena.
func (w *Watcher) watchWholeTree(fsw *fsnotify.Watcher, onErr func(dir string, err error) error) error {
	w.list.arena = &pathArena{}
	defer func() { w.list.arena = nil }()
	return w.watchTree(fsw, "", onErr)
}

// watchTree adds a watch for directory rel, then for every directory below
// it that is not excluded, depth first and in name order (so the table
// only appends). A watch is added before its directory is read, so an
// entry made meanwhile gives an event. A directory that vanished meanwhile
// is skipped. Other failures go to onErr, whose non-nil result stops the
// walk and is returned.
//
// The path fsnotify keeps for a watch and the relative path in the table
// share their bytes, and the walk's stack is reused from walk to walk: a
// walk makes no garbage of its own beyond the paths it keeps. The marker
// remembers the walk until the events queued before it are handled.
func (w *Watcher) watchTree(fsw *fsnotify.Watcher, rel string, onErr func(dir string, err error) error) error {
	stack := append(w.stack[:0], w.full(rel))
	defer func() {
		clear(stack[:cap(stack)])
		w.stack = stack[:0]
		w.in.marker.walk(w, rel)
	}()
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		rel := w.relOfFull(dir)
		if err := fsw.Add(dir); err != nil {
			if vanished(err) && rel != "" {
				continue
			}
			if err := onErr(dir, err); err != nil {
				return err
			}
			continue
		}
		if w.dirs.add(rel) {
			w.watches.Add(1)
		}
		n := len(stack)
		var err error
		if stack, err = w.list.appendSubdirs(stack, dir); err != nil {
			if vanished(err) {
				stack = stack[:n]
				continue
			}
			if err := onErr(dir, err); err != nil {
				return err
			}
			// What was read before the error is still walked.
		}
		kept := stack[:n]
		for _, sub := range stack[n:] {
			if !w.excluded(w.relOfFull(sub), true) {
				kept = append(kept, sub)
			}
		}
		clear(stack[len(kept):])
		stack = kept
		slices.Reverse(stack[n:]) // the first name is taken first
	}
	return nil
}

// startAddError is watchTree's onErr at start: a directory below the root
// that may not be read (its permissions keep this user out) is a warning
// naming it, left unwatched, so that one such directory does not stop every
// other tree; any other failure stops the start.
func (w *Watcher) startAddError(dir string, err error) error {
	if dir != w.root && errors.Is(err, fs.ErrPermission) {
		w.log.Warn().Str("path", w.opts.Root).Str("dir", dir).Err(err).
			Msg("cannot read directory: not watched, and its changes are not synced (rsync will say so too); give inosync's user read access")
		return nil
	}
	return addError(dir, err, readSysctl)
}

// watchReadable watches rel, a path that is not watched and that a Chmod
// event names, when it is a directory not excluded and can be watched
// now: one whose permissions kept this user out (startAddError) until a
// chmod or chown let it in. It reports whether rel is watched.
func (w *Watcher) watchReadable(rel string) bool {
	fi, err := os.Lstat(w.full(rel))
	if err != nil || !fi.IsDir() || w.excluded(rel, true) {
		return false
	}
	_ = w.watchTree(w.in.fsw.Load(), rel, w.stillUnreadable)
	if !w.dirs.has(rel) {
		return false
	}
	w.log.Info().Str("path", w.opts.Root).Str("dir", w.full(rel)).Msg("directory readable now: watched, and synced whole")
	return true
}

// stillUnreadable is watchReadable's onErr: a directory that still may
// not be read stays as startAddError left it, without another warning.
func (w *Watcher) stillUnreadable(dir string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return nil
	}
	return w.logAddError(dir, err)
}

// logAddError is watchTree's onErr while running: the failure is logged
// and the walk goes on, except at the watch limit, where every further Add
// would fail too.
func (w *Watcher) logAddError(dir string, err error) error {
	err = addError(dir, err, readSysctl)
	w.log.Error().Str("path", w.opts.Root).Err(err).
		Msg("cannot watch directory; changes in it will be missed until the next full sync")
	if errors.Is(err, syscall.ENOSPC) {
		return err
	}
	return nil
}

// unwatchTree drops the watches at and below rel, from fsnotify and from
// the table. fsnotify may have dropped some already (it does when a
// watched directory is deleted or moved): that is fine. A watch dropped
// may be one a walk was handed, so the marker hears of it.
func (w *Watcher) unwatchTree(rel string) {
	w.in.marker.unwatched()
	fsw := w.in.fsw.Load()
	w.dirs.removeTree(rel, func(r string) {
		w.watches.Add(-1)
		if err := fsw.Remove(w.full(r)); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
			// EINVAL: the kernel dropped the watch before we asked.
			w.log.Debug().Str("path", w.opts.Root).Str("rel", r).Err(err).Msg("remove watch")
		}
	})
}

func (w *Watcher) excluded(rel string, isDir bool) bool {
	return w.opts.Exclude != nil && w.opts.Exclude(rel, isDir)
}

// relOfFull returns the path relative to the root of p, a path at or
// below it made by full or lister.appendSubdirs, as a substring of p.
func (w *Watcher) relOfFull(p string) string { return relBelow(w.root, p) }

// relBelow returns the path relative to root of p, a cleaned absolute
// path at or below root, as a substring of p.
func relBelow(root, p string) string {
	switch {
	case len(p) <= len(root):
		return ""
	case root == "/":
		return p[1:]
	}
	return p[len(root)+1:]
}

// full returns the absolute path of rel, as fsnotify knows it.
func (w *Watcher) full(rel string) string {
	switch {
	case rel == "":
		return w.root
	case w.root == "/":
		return "/" + rel
	}
	return w.root + "/" + rel
}

// relOf returns the path of an fsnotify event's name relative to the root.
func (w *Watcher) relOf(name string) (string, bool) {
	if name == w.root {
		return "", true
	}
	rest, ok := strings.CutPrefix(name, w.root)
	if !ok || (w.root != "/" && !strings.HasPrefix(rest, "/")) {
		return "", false
	}
	return strings.TrimLeft(rest, "/"), true
}

// vanished reports whether err says the path is gone or no longer a
// directory: a race with the tree changing, not a failure.
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// parentOf returns the directory part of rel ("" for the root's entries).
func parentOf(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}
