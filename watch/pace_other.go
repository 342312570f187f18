//go:build !linux

package watch

import "time"

// holdThread sleeps d. Only Linux has inotify, where the sleep is
// nanosleep(2) itself (pace_linux.go); elsewhere it is time.Sleep.
func holdThread(d time.Duration) { time.Sleep(d) }
