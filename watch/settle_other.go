//go:build !linux

package watch

// settled cannot tell elsewhere (settle_linux.go has the probe): the caller
// waits instead.
func settled(string, Settling) bool { return false }
