package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/inosync/inosync/watch/inotifytest"
)

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" { // a test runs this binary as the daemon or a client
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	if err := inotifytest.RestoreLeftover(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testscript.Main(m, map[string]func(){
		"inosync": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// asMainEnv, set to 1, makes the test binary run as inosync itself.
const asMainEnv = "INOSYNC_TEST_AS_MAIN"

// TestScripts runs the command-line scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "rsync": // the default rsync binary the configs name
				_, err := os.Stat("/usr/bin/rsync")
				return err == nil, nil
			case "defaultconfig":
				_, err := os.Stat(DefaultConfig)
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("TESTHOME", "/home/tester")
			return nil
		},
	})
}
