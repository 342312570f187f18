package watch

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// Instance is one inotify instance (through fsnotify) that the Watchers
// of many trees share, so that the number of trees is not bounded by the
// per-user limit on instances (fs.inotify.max_user_instances, 128 by
// default). One goroutine reads its events and hands each to the watchers
// whose trees hold the event's path (a feed each); each watcher keeps its
// own table of the directories it watches and adds and removes its
// watches through the instance.
//
// Trees may nest (one's root inside another's tree): a directory that
// both watch is one kernel watch, removed when the last of them lets go,
// and a watcher takes an event of the nested part only from a directory
// it watches itself (see Watcher.owns).
//
// When the kernel's queue overflows, events of every tree were lost, and
// any watch may name a stale path: the instance is replaced by a new one
// and every watcher is told to walk its tree again (see Watcher.resync).
type Instance struct {
	log zerolog.Logger
	// mu guards fsw, feeds and shared. The router holds it only to look
	// up where an event goes, never while it hands the event on.
	mu     sync.RWMutex
	fsw    *fsnotify.Watcher
	feeds  map[string][]*feed // by root
	shared map[string][]*feed // watchers of a directory that several trees hold
	closed bool
	// overflowed carries, from pump to the router, the fsnotify watcher
	// whose queue overflowed (room for one: one rebuild answers many).
	overflowed chan *fsnotify.Watcher
	stop, done chan struct{}
}

// feed is what an Instance hands one Watcher: the events in its tree, and
// a notice that the instance was replaced after an overflow.
type feed struct {
	root   string // cleaned absolute root
	events chan delivered
	// overflow has room for one notice: the watcher walks its tree again
	// once, however many overflows came meanwhile.
	overflow chan struct{}
	// gone is closed once the watcher has left: nothing waits on events
	// any more.
	gone chan struct{}
}

// feedBuffer is the capacity of a feed: a burst for one tree is taken off
// fsnotify's buffer (eventBuffer) while its watcher walks a new directory.
// It is allocated whole for every tree, so it is kept small; when it is
// full, the router waits, and the events of every tree queue in fsnotify's
// buffer and then in the kernel's.
const feedBuffer = 512

// delivered is an event for a feed. nested: the event's path is in
// several trees, and the watcher must check that it comes from a
// directory it watches (see Watcher.owns).
type delivered struct {
	ev     fsnotify.Event
	nested bool
}

// NewInstance starts an inotify instance to share (see Instance). Errors
// explain an exhausted instance limit.
func NewInstance(lg zerolog.Logger) (*Instance, error) {
	fsw, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		return nil, initError("", err, readSysctl)
	}
	in := &Instance{log: lg, fsw: fsw, feeds: map[string][]*feed{}, shared: map[string][]*feed{},
		overflowed: make(chan *fsnotify.Watcher, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go in.pump(fsw)
	go in.route()
	return in, nil
}

// Close ends the instance: every watch goes, and the watchers still
// subscribed get no more events.
func (in *Instance) Close() {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.closed = true
	close(in.stop)
	_ = in.fsw.Close()
	in.mu.Unlock()
	<-in.done
}

// subscribe makes the feed of a watcher of root (cleaned and absolute).
//
// shared lists the watchers of each watched directory that lies in more
// than one tree. A directory watched before a second tree came to hold it
// has one watcher, the only tree that held it then: it is listed now.
func (in *Instance) subscribe(root string) *feed {
	f := &feed{root: root, events: make(chan delivered, feedBuffer), overflow: make(chan struct{}, 1), gone: make(chan struct{})}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.overlapsLocked(root) {
		var holders []*feed
		for _, p := range in.fsw.WatchList() {
			if _, ok := in.shared[p]; ok || !within(p, root) {
				continue
			}
			if holders = in.feedsOfLocked(p, holders[:0]); len(holders) == 1 {
				in.shared[p] = []*feed{holders[0]}
			}
		}
	}
	in.feeds[root] = append(in.feeds[root], f)
	return f
}

// overlapsLocked reports whether a tree at root would share directories
// with a tree already subscribed.
func (in *Instance) overlapsLocked(root string) bool {
	for r := range in.feeds {
		if within(root, r) || within(r, root) {
			return true
		}
	}
	return false
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	return path == dir || dir == "/" || strings.HasPrefix(path, dir+"/")
}

// unsubscribe ends f: the router no longer hands it anything. Its watches
// must have been removed first. The directories that no longer lie in
// several trees leave shared.
func (in *Instance) unsubscribe(f *feed) {
	in.mu.Lock()
	in.feeds[f.root] = slices.DeleteFunc(in.feeds[f.root], func(g *feed) bool { return g == f })
	if len(in.feeds[f.root]) == 0 {
		delete(in.feeds, f.root)
	}
	for p := range in.shared {
		if !in.nestedLocked(p) {
			delete(in.shared, p)
		}
	}
	in.mu.Unlock()
	close(f.gone)
}

// add watches directory path for f.
func (in *Instance) add(f *feed, path string) error {
	in.mu.Lock() // held across Add: a rebuild must not swap fsw meanwhile
	defer in.mu.Unlock()
	if in.closed {
		return fsnotify.ErrClosed
	}
	if in.nestedLocked(path) {
		if ws := in.shared[path]; !slices.Contains(ws, f) {
			in.shared[path] = append(ws, f)
		}
	}
	return in.fsw.Add(path)
}

// remove drops f's watch of directory path; the kernel's watch goes when
// no other tree's watcher has it.
func (in *Instance) remove(f *feed, path string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil
	}
	if ws, ok := in.shared[path]; ok {
		ws = slices.DeleteFunc(ws, func(g *feed) bool { return g == f })
		if len(ws) > 0 {
			in.shared[path] = ws
			return nil
		}
		delete(in.shared, path)
	}
	return in.fsw.Remove(path)
}

// watchList is fsnotify's list of the watched paths (for tests).
func (in *Instance) watchList() []string {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.fsw.WatchList()
}

// nestedLocked reports whether path lies in more than one tree.
func (in *Instance) nestedLocked(path string) bool {
	n := 0
	for p := path; ; p = filepath.Dir(p) {
		n += len(in.feeds[p])
		if n > 1 {
			return true
		}
		if p == "/" || p == "." {
			return false
		}
	}
}

// route hands each event to the feeds of the trees that hold its path, and
// answers an overflow with a rebuild, until the instance is closed.
func (in *Instance) route() {
	defer close(in.done)
	var to []*feed
	for {
		in.mu.RLock()
		fsw := in.fsw
		in.mu.RUnlock()
		select {
		case <-in.stop:
			return
		case old := <-in.overflowed:
			if old == fsw {
				in.rebuild(fsw)
			}
		case ev, ok := <-fsw.Events:
			if !ok {
				// Closed: the instance is ending, or a rebuild replaced
				// it (then the loop takes up the new one).
				continue
			}
			to = in.feedsOf(ev.Name, to[:0])
			for _, f := range to {
				select {
				case f.events <- delivered{ev, len(to) > 1}:
				case <-f.gone:
				case <-in.stop:
					return
				}
			}
		}
	}
}

// feedsOf appends the feeds whose trees hold path to to.
func (in *Instance) feedsOf(path string, to []*feed) []*feed {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.feedsOfLocked(path, to)
}

func (in *Instance) feedsOfLocked(path string, to []*feed) []*feed {
	for p := path; ; p = filepath.Dir(p) {
		to = append(to, in.feeds[p]...)
		if p == "/" || p == "." {
			return to
		}
	}
}

// pump drains fsw's errors, never blocking fsnotify (which sends some
// while holding the lock that Add and Remove take): an overflow goes to
// the router, anything else is logged.
func (in *Instance) pump(fsw *fsnotify.Watcher) {
	for err := range fsw.Errors {
		if errors.Is(err, fsnotify.ErrEventOverflow) {
			select {
			case in.overflowed <- fsw:
			default: // a rebuild is on its way already
			}
			continue
		}
		in.log.Error().Err(err).Msg("fsnotify error")
	}
}

// rebuild replaces the instance old after its queue overflowed (closing it
// drops every watch and what was still queued) and tells every watcher to
// walk its tree again into the new one. If no new instance can be made,
// the watchers' walks fail, and so do they.
func (in *Instance) rebuild(old *fsnotify.Watcher) {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	_ = old.Close() // first: the limits are per user, not per instance
	fsw, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		in.log.Error().Err(initError("", err, readSysctl)).Msg("cannot make a new inotify instance after the overflow")
		in.closed = true
		close(in.stop)
	} else {
		in.fsw = fsw
		go in.pump(fsw)
	}
	clear(in.shared)
	var all []*feed
	for _, fs := range in.feeds {
		all = append(all, fs...)
	}
	in.mu.Unlock()
	for _, f := range all {
		select {
		case f.overflow <- struct{}{}:
		default: // one is waiting already
		}
	}
}
