// Package rsync builds rsync command lines and runs rsync: the initial-sync
// argv of inosync 0.2.3, quoting for display, and (for the daemon) the
// per-node dispatcher that hands changed paths to rsync NUL-separated.
package rsync
