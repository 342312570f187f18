package watch

// TriggerOps maps emask's inotify event names to the operations that
// start a sync. fsnotify folds IN_MOVED_TO into Create and drops IN_ISDIR,
// and delivers no IN_CLOSE_WRITE: with inotify a Watcher takes CloseWrite
// as Write (a file still being written is synced again after its last
// write, so the target ends with its final bytes); with fanotify it means
// what it says.
//
//	IN_CLOSE_WRITE              → CloseWrite
//	IN_MODIFY                   → Write
//	IN_CREATE, IN_MOVED_TO      → Create
//	IN_DELETE, IN_DELETE_SELF   → Remove
//	IN_MOVED_FROM, IN_MOVE_SELF → Rename
//	IN_ATTRIB                   → Chmod
//	ALL_EVENTS                  → all of the above
//
// Other names (IN_OPEN, IN_ACCESS, IN_CLOSE_NOWRITE, and flags such as
// IN_ONLYDIR) start nothing. Directory bookkeeping happens whatever the
// mask says: it decides what starts a sync, never what is watched.
func TriggerOps(names []string) Op {
	var op Op
	for _, n := range names {
		switch n {
		case "IN_CLOSE_WRITE":
			op |= CloseWrite
		case "IN_MODIFY":
			op |= Write
		case "IN_CREATE", "IN_MOVED_TO":
			op |= Create
		case "IN_DELETE", "IN_DELETE_SELF":
			op |= Remove
		case "IN_MOVED_FROM", "IN_MOVE_SELF":
			op |= Rename
		case "IN_ATTRIB":
			op |= Chmod
		case "ALL_EVENTS":
			op |= Create | Write | Remove | Rename | Chmod | CloseWrite
		}
	}
	return op
}
