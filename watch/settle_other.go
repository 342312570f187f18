//go:build !linux

package watch

import "sync/atomic"

// settled cannot tell elsewhere (settle_linux.go has the probe): the caller
// waits instead.
func settled(string, Settling, *atomic.Bool) bool { return false }

// openForWriting cannot tell elsewhere: files are synced as usual.
func openForWriting(string, *atomic.Bool) bool { return false }
