// Package watch watches directory trees recursively, with fsnotify (inotify)
// or fanotify, and turns what the kernel reports into coalesced sets of
// changed paths per tree.
//
// # Watching
//
// A Watcher (New, then Run in one goroutine) keeps one inotify watch per
// directory of a tree that is not excluded, and sends a Change per event.
// Paths are relative to the tree's root, '/'-separated. The contract with
// the consumer is that nothing seen is lost: every changed path is reported,
// or is covered by a reported directory that the consumer syncs
// recursively. A Create, Remove or Rename of a directory (IsDir set), and
// any change of the root itself, stands for the whole subtree. Reporting
// too much is allowed; reporting too little is a bug.
//
// fsnotify v1 gives five ops on Linux, which map to inotify's events as
// follows (IN_CLOSE_WRITE, IN_OPEN and IN_ACCESS are not delivered):
//
//	Create  IN_CREATE, IN_MOVED_TO (a move into the tree is a bare Create)
//	Write   IN_MODIFY
//	Remove  IN_DELETE, IN_DELETE_SELF
//	Rename  IN_MOVED_FROM, IN_MOVE_SELF
//	Chmod   IN_ATTRIB
//
// fsnotify drops IN_ISDIR, so whether a removed or renamed path was a
// directory comes from the Watcher's own table of watched directories, and
// for a created path from lstat. Options.Trigger decides which ops on files
// are reported; directory bookkeeping (new, removed and renamed
// directories, an overflowed kernel queue) is reported whatever it says.
//
// A new directory, created or moved in, is walked and watched before it is
// reported, so files made in it before its watch existed are covered by
// the recursive sync of the directory. When a watched directory is renamed,
// the watches of its subdirectories would go on reporting the old paths, so
// every watch at or below the old name is dropped; the new name arrives as
// a Create and is walked afresh. On a queue overflow the fsnotify watcher
// is replaced by a new one filled by a fresh walk, and the root is
// reported. Symbolic links to directories are never followed.
//
// A Watcher has an inotify instance of its own, or shares one with other
// trees (Shared), so that the number of trees is not bounded by the
// kernel's per-user instance limit. One goroutine reads a shared instance
// and handles its trees' events in the kernel's order. Trees that may
// reach one directory (nested, through a symlinked root, or through a
// bind mount) never share one: the kernel has one watch per directory
// and instance, and fsnotify one path per watch. An overflow of a shared
// queue rebuilds and reports every tree in it.
//
// For the same reason a walk that finds a directory whose move there is
// still queued is handed that directory's existing watch, which the
// handling of the move then removes. Each walk is remembered until an
// event made after it comes back through the queue (marker); a directory
// unwatched meanwhile makes the walks' watches be added again and their
// directories be reported whole.
//
// # fanotify
//
// With Options.Fanotify a Watcher has no watch of its own: a Fanotify makes
// a group for each filesystem that holds trees and marks the filesystem
// once (FAN_MARK_FILESYSTEM, reporting a directory's handle and an entry's
// name per event), resolves
// each handle to the directory's current path through a bounded cache, and
// hands the event to every tree the path is in (trees may nest there).
// There is no walk: a new directory, one moved in and one renamed are
// reported as directories to sync recursively, as with inotify, and what
// is made in them is reported by the mark already. An event of an excluded
// directory, or of one below it, is dropped at intake; so is every event
// of a directory in no tree, by one map lookup once its handle is cached.
// A directory deleted before its event is read cannot be resolved
// (ESTALE): its own removal, reported from its parent, covers it. The
// queue merges the events of one name, so a Change may carry several ops
// (CREATE|WRITE|CLOSE_WRITE for a new file), and CloseWrite is reported.
// An overflow of a filesystem's queue syncs every tree on that filesystem
// whole, and no other. Nothing is held open in a watched filesystem
// between reads, so it can be unmounted.
//
// # Coalescing
//
// Coalesce collects a tree's changes for a delay counted from the first
// change and hands them on as a Batch: sorted paths, with directories to
// sync recursively written with a trailing "/". A pending directory absorbs
// the paths below it; too many entries under one directory collapse into
// it (CoalesceOptions.PerDir), and too many in all make the batch Full
// (CoalesceOptions.MaxPaths). Intake never waits for the consumer, and
// nothing runs while nothing is pending.
package watch
