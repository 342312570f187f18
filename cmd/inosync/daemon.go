package main

import (
	"fmt"
	"io"

	"github.com/inosync/inosync/config"
)

// daemon will run the watcher and the rsync dispatcher (the next issue).
func daemon(_ *options, _ *config.Config, stderr io.Writer) int {
	fmt.Fprintln(stderr, "inosync: the daemon is not built yet: use --check")
	return 1
}
