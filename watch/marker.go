package watch

import (
	"fmt"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// marker tells when the events queued before a walk have all been
// handled, which a walk needs because the kernel keeps one watch per
// directory and instance: when a walk finds a directory that was just
// moved from a watched place whose move event is still queued, adding
// its watch hands back the existing one (fsnotify keeps it under the old
// path), and the tree that then handles the move removes it. So each walk
// is remembered until an event made after it comes back through the same
// queue: a change of attributes of a memfd that only the instance
// watches. When a directory was moved away or removed meanwhile, the loop
// then walks the remembered walks' directories again, once every move
// queued before them is handled (a removed watch is made anew), and
// reports them whole, which covers what their lost watches missed.
//
// The marker belongs to the instance's loop.
type marker struct {
	fd   int    // the memfd, or -1 when there is none (no protection)
	path string // its /proc/self/fd path, as fsnotify names its events

	walks   []walked // not answered yet
	sent    uint64   // markers sent
	waiting bool     // a marker is on its way
	due     bool     // a directory was unwatched while walks are remembered
}

// walked is a walk remembered: the tree, its top directory and the
// marker that answers for it.
type walked struct {
	w   *Watcher
	rel string
	seq uint64
}

// open makes the memfd and watches it in fsw; without it walks are not
// protected, which is logged.
func (m *marker) open(fsw *fsnotify.Watcher, log zerolog.Logger) {
	m.fd = -1
	fd, err := unix.MemfdCreate("inosync-marker", unix.MFD_CLOEXEC)
	if err != nil {
		log.Warn().Err(err).Msg("no memfd for the inotify marker: a directory moved during a walk may go unwatched")
		return
	}
	m.fd, m.path = fd, fmt.Sprintf("/proc/self/fd/%d", fd)
	if err := fsw.Add(m.path); err != nil {
		log.Warn().Err(err).Msg("cannot watch the inotify marker: a directory moved during a walk may go unwatched")
		m.close()
	}
}

// close releases the memfd.
func (m *marker) close() {
	if m.fd >= 0 {
		_ = unix.Close(m.fd)
		m.fd, m.path = -1, ""
	}
}

// reset watches the marker in a new fsnotify watcher, which starts with
// an empty queue: nothing is on its way, and no walk is remembered.
func (m *marker) reset(fsw *fsnotify.Watcher) {
	m.walks, m.waiting, m.due = m.walks[:0], false, false
	if m.fd >= 0 && fsw.Add(m.path) != nil {
		m.close()
	}
}

// walk remembers a walk of w's rel that has just added its watches, and
// sends a marker when none is on its way.
func (m *marker) walk(w *Watcher, rel string) {
	if m.fd < 0 {
		return
	}
	m.walks = append(m.walks, walked{w: w, rel: rel, seq: m.sent + 1})
	if !m.waiting {
		m.send()
	}
}

// send changes the memfd's attributes: an event behind every one queued
// so far.
func (m *marker) send() {
	if err := unix.Fchmod(m.fd, 0o600); err != nil {
		m.close() // walks stay unprotected, as without a memfd
		m.walks = m.walks[:0]
		return
	}
	m.sent++
	m.waiting = true
}

// seen is the marker's event: the walks it answers for are over; a
// marker is sent for those made since.
func (m *marker) seen() {
	m.waiting = false
	kept := m.walks[:0]
	for _, wk := range m.walks {
		if wk.seq > m.sent {
			kept = append(kept, wk)
		}
	}
	clear(m.walks[len(kept):])
	m.walks = kept
	if len(m.walks) > 0 {
		m.send()
	}
}

// unwatched notes that a tree dropped the watches of a directory moved
// away or removed, or all of its own: when walks are remembered, they are
// walked again when the marker comes back (any number of such drops cost
// one walk each per marker).
func (m *marker) unwatched() {
	if len(m.walks) > 0 {
		m.due = true
	}
}
