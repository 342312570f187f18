// Command inosync keeps directory trees on other machines in step with
// local ones: it watches them with inotify and pushes what changed with
// rsync. It reads the configs of the Python inosync unchanged.
//
// Output rules: everything but --check's command lines, --version and -h
// goes to standard error, prefixed "inosync: ", lowercase, with no closing
// full stop; a hint follows its error as "inosync: hint: …".
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, "Usage: inosync [options]")
		fmt.Fprintf(stderr, "inosync: error: %v\n", err)
		return 2
	}
	switch {
	case o.help:
		printHelp(stdout)
		return 0
	case o.version:
		fmt.Fprintf(stdout, "inosync %s\n", Version)
		return 0
	}
	cfg, err := config.Load(o.config, config.Options{
		Print: func(msg string) { fmt.Fprintf(stderr, "%s: print: %s\n", o.config, msg) },
	})
	if err != nil {
		reportConfigError(stderr, err)
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "inosync: warning: %v\n", w)
	}
	if o.check {
		for _, argv := range cfg.InitialArgv() {
			fmt.Fprintln(stdout, rsync.Quote(argv))
		}
		return 0
	}
	return daemon(o, cfg, stderr)
}

// reportConfigError prints a config error, and its hint on a line of its own.
func reportConfigError(w io.Writer, err error) {
	var ce *config.Error
	if errors.As(err, &ce) {
		fmt.Fprintf(w, "inosync: %v\n", ce)
		if ce.Hint != "" {
			fmt.Fprintf(w, "inosync: hint: %s\n", ce.Hint)
		}
		return
	}
	fmt.Fprintf(w, "inosync: %v\n", err)
}
