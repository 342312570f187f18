package config

import (
	"slices"
	"time"
)

// Config is a validated configuration. It is immutable after Load.
type Config struct {
	File  string // the config file as given to -c
	Form  string // "wpaths" (master 0.2.3) or "wpath" (0.2.1, tagged 0.2.3, forks)
	Syncs []Sync // one per watched path, in run order

	Rsync    string   // absolute path of the rsync binary
	Extra    []string // the words of `extra`
	ExtraPos string   // file:line:col of extra's value, for messages; "" when not set
	Bwlimit  string   // --bwlimit value, "0" by default
	Logfile  string   // --log-file value; "" = none

	Events []string      // emask: inotify event names that start a sync
	Delay  time.Duration // edelay

	// Flood protection (new settings; see docs/config.md).
	MaxProcesses int           // max_processes: rsync processes at once; 0 = five per (tree, node)
	MaxDelay     time.Duration // max_delay: the longest a change waits for its run to start
	MaxPending   int           // max_pending: pending paths per tree before it is synced whole
	// WarmRsync (warm_rsync) keeps one rsync per local (tree, node)
	// started and waiting for its next file list, two while its changes
	// come less than a second apart. Default: on when rsync
	// is the default binary (a custom wrapper is not started ahead of
	// need: it may do something per invocation).
	WarmRsync bool
	// Watcher (watcher) is how trees are watched: WatcherInotify,
	// WatcherFanotify or WatcherAuto (fanotify where it can be used,
	// inotify elsewhere).
	Watcher string

	// Reporting and drift repair (see docs/operations.md).
	ControlSocket  string        // control_socket: "" = named after the config file
	StatusFile     string        // status_file: "" = none
	StatusInterval time.Duration // status_interval: the status file is written at most this often
	MetricsListen  string        // metrics_listen: "" = no metrics endpoint
	ResyncInterval time.Duration // resync_interval: the default of each tree's Resync; 0 = off

	// Safety (see docs/operations.md, "What inosync does when…").
	Timeout          time.Duration // timeout: the default of each tree's Timeout
	AllowEmptySource bool          // allow_empty_source: the default of each tree's

	// Deletion and the initial sync (lsyncd's delete and init): the
	// defaults of each tree's.
	Delete string // delete: DeleteAll, DeleteNone, DeleteStartup or DeleteRunning
	Init   bool   // init: False skips the initial sync

	// After and AfterTimeout are the defaults of each tree's (after,
	// after_timeout): nil and 0 when unset.
	After        []string
	AfterTimeout time.Duration

	// Warnings are things worth telling the user that do not stop the load.
	Warnings []*Error
}

// Sync is one watched tree and where it goes.
type Sync struct {
	Source   string   // the watched path as rsync gets it (trailing slash as written)
	Target   string   // rpath; "" in the singular form without rpath
	Dests    []Dest   // one per node, in run order
	Excludes []string // rsync --exclude patterns for this tree
	Delay    time.Duration
	// ExcludeHooks and FilterHooks are the config's Starlark hooks for
	// this tree (its own first, then the global ones). They are safe to
	// call from any goroutine.
	ExcludeHooks []ExcludeFunc
	FilterHooks  []FilterFunc
	Pos          string // file:line:col of the sync() call; "" for the legacy variables
	// Resync is how often the whole tree is synced to repair drift on
	// the targets (resync_interval); 0 = never.
	Resync time.Duration
	// Timeout is rsync's I/O timeout (--timeout) for the runs after the
	// initial one (timeout); 0 = none.
	Timeout time.Duration
	// AllowEmptySource lets a full sync run from an empty source to a
	// target that is not empty (allow_empty_source).
	AllowEmptySource bool
	// Delete says which runs delete on the target what the source does
	// not have (delete: DeleteAll, DeleteNone, DeleteStartup or
	// DeleteRunning); Init false skips the initial sync (init).
	Delete string
	Init   bool
	// Extra, Bwlimit and Rsync override the config's for this tree
	// (sync(extra=…, rspeed=…, rsync=…)): nil or "" keep the config's.
	// ExtraPos is where Extra was set.
	Extra    []string
	ExtraPos string
	Bwlimit  string
	Rsync    string
	// After is the command run after each successful sync to a node of
	// the tree (sync(after=…)), nil when none; AfterTimeout bounds it (0
	// = the default).
	After        []string
	AfterTimeout time.Duration
	// globalExcludes counts the patterns at the end of Excludes that the
	// global filters and exclude_from added (--convert leaves them to
	// those settings).
	globalExcludes int
}

// Dest is one destination of a Sync.
type Dest struct {
	Node string // the rnodes entry as written (for logs)
	Path string // the whole rsync destination: node + rpath
	// Extra and Bwlimit are the node's own options (node(extra=…,
	// rspeed=…)): Extra goes after the tree's; nil and "" when none.
	Extra   []string
	Bwlimit string
	// After, when not nil, is the node's after command in place of the
	// tree's (node(after=…)); empty: none.
	After []string
}

// sameRuns reports whether two configs run the same rsync commands: the
// same binary, options and trees, each to the same destinations.
func sameRuns(a, b *Config) bool {
	if a.Rsync != b.Rsync || a.Bwlimit != b.Bwlimit || a.Logfile != b.Logfile ||
		!slices.Equal(a.Extra, b.Extra) || len(a.Syncs) != len(b.Syncs) {
		return false
	}
	samePath := func(a, b Dest) bool { // Node is only what logs show
		return a.Path == b.Path && slices.Equal(a.Extra, b.Extra) && a.Bwlimit == b.Bwlimit
	}
	for i, s := range a.Syncs {
		t := b.Syncs[i]
		if s.Source != t.Source || !slices.EqualFunc(s.Dests, t.Dests, samePath) || !slices.Equal(s.Excludes, t.Excludes) || s.Delete != t.Delete || s.Init != t.Init ||
			!slices.Equal(s.Extra, t.Extra) || s.Bwlimit != t.Bwlimit || s.Rsync != t.Rsync {
			return false
		}
	}
	return true
}
