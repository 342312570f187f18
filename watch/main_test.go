package watch

import (
	"fmt"
	"os"
	"testing"

	"github.com/inosync/inosync/watch/inotifytest"
)

// TestMain puts back an inotify queue length that a killed test process
// left lowered, before any test makes an instance.
func TestMain(m *testing.M) {
	if err := inotifytest.RestoreLeftover(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
