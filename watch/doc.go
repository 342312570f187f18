// Package watch watches directory trees recursively with fsnotify and turns
// what the kernel reports into coalesced sets of changed paths per tree.
package watch
