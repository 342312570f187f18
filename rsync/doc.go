// Package rsync builds rsync command lines and runs rsync: the initial-sync
// argv of inosync 0.2.3, quoting for display, and (for the daemon) the
// per-(tree, node) dispatcher that hands changed paths to rsync
// NUL-separated, retries failed runs with backoff, keeps rsyncs started
// ahead of need for local nodes, and reuses one ssh connection per remote
// node through a private control directory.
package rsync
