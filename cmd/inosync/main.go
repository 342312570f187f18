// Command inosync keeps directory trees on other machines in step with
// local ones: it watches them with inotify and pushes what changed with
// rsync. It reads the configs of the Python inosync unchanged.
//
// Output rules: everything but --check's command lines, --convert's config,
// --version and -h goes to standard error, prefixed "inosync: ", lowercase,
// with no closing full stop; a hint follows its error as "inosync: hint: …".
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/inosync/inosync/compat/lsyncd"
	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if isClientCommand(args) {
		return runClient(args, stdout, stderr)
	}
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
		fmt.Fprintln(stdout, currentBuild())
		return 0
	case o.convert != "":
		return convert(o.convert, stdout, stderr)
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
		if o.verbose {
			printEffective(stderr, cfg)
		}
		if err := checkWatchLimits(cfg); err != nil {
			fmt.Fprintf(stderr, "inosync: %v\n", err)
			return 1
		}
		if err := checkRsyncOptions(cfg, func(msg string) { fmt.Fprintf(stderr, "inosync: warning: %s\n", msg) }); err != nil {
			fmt.Fprintf(stderr, "inosync: %v\n", err)
			return 1
		}
		for _, argv := range initialArgv(cfg) {
			fmt.Fprintln(stdout, rsync.Quote(argv))
		}
		return 0
	}
	return daemon(o, cfg, stderr)
}

// convert prints the config file rewritten in the sync() form
// (--convert): a legacy inosync config, or an lsyncd one.
func convert(file string, stdout, stderr io.Writer) int {
	var out []byte
	var err error
	if lsyncdConfig(file) {
		out, err = lsyncd.ConvertFile(file)
	} else {
		out, err = config.Convert(file, config.Options{
			Print: func(msg string) { fmt.Fprintf(stderr, "%s: print: %s\n", file, msg) },
		})
	}
	if err != nil {
		reportConfigError(stderr, err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "inosync: %v\n", err)
		return 1
	}
	return 0
}

// lsyncdConfig reports whether file looks like an lsyncd config (a .lua
// name, or settings { or sync { blocks in its first 64 KiB).
func lsyncdConfig(file string) bool {
	if strings.HasSuffix(file, ".lua") {
		return true
	}
	f, err := os.Open(file)
	if err != nil {
		return false // the converter reports it
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	return config.LooksLikeLsyncd(file, head[:n])
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

// printEffective lists the settings a config ends with (--check -v), on
// stderr so that stdout keeps only the command lines.
func printEffective(w io.Writer, cfg *config.Config) {
	maxProcs := "five per (tree, node)"
	if cfg.MaxProcesses > 0 {
		maxProcs = fmt.Sprint(cfg.MaxProcesses)
	}
	fmt.Fprintf(w, "inosync: effective settings of %s (%s form)\n", cfg.File, cfg.Form)
	fmt.Fprintf(w, "  rsync          %s\n", cfg.Rsync)
	fmt.Fprintf(w, "  extra          %s\n", rsync.Quote(cfg.Extra))
	fmt.Fprintf(w, "  rspeed         %s\n", cfg.Bwlimit)
	fmt.Fprintf(w, "  logfile        %s\n", cfg.Logfile)
	fmt.Fprintf(w, "  emask          %s\n", strings.Join(cfg.Events, " "))
	fmt.Fprintf(w, "  edelay         %v\n", cfg.Delay)
	fmt.Fprintf(w, "  max_processes  %s\n", maxProcs)
	fmt.Fprintf(w, "  max_delay      %v\n", cfg.MaxDelay)
	fmt.Fprintf(w, "  max_pending    %d\n", cfg.MaxPending)
	fmt.Fprintf(w, "  warm_rsync     %v\n", cfg.WarmRsync)
	fmt.Fprintf(w, "  timeout        %s\n", orNone(cfg.Timeout))
	for i, s := range cfg.Syncs {
		fmt.Fprintf(w, "  tree %d         %s", i+1, s.Source)
		if s.Pos != "" {
			fmt.Fprintf(w, " (sync() at %s)", s.Pos)
		}
		fmt.Fprintln(w)
		for _, d := range s.Dests {
			fmt.Fprintf(w, "    node         %q -> %s%s\n", d.Node, d.Path, nodeOptions(d))
		}
		fmt.Fprintf(w, "    delay        %v (waits at most %v)\n", s.Delay, min(s.Delay, cfg.MaxDelay))
		fmt.Fprintf(w, "    excludes     %s\n", rsync.Quote(s.Excludes))
		fmt.Fprintf(w, "    hooks        %d exclude, %d filter\n", len(s.ExcludeHooks), len(s.FilterHooks))
		printTreeOptions(w, s)
		if s.Timeout != cfg.Timeout {
			fmt.Fprintf(w, "    timeout      %s\n", orNone(s.Timeout))
		}
	}
}

// orNone is a duration setting in words: 0 is none.
func orNone(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return d.String()
}

// printTreeOptions lists a tree's settings of its own (--check -v): only
// those that differ from the defaults or the globals, one per line.
func printTreeOptions(w io.Writer, s config.Sync) {
	switch s.Delete {
	case config.DeleteNone:
		fmt.Fprintf(w, "    delete       False\n")
	case config.DeleteStartup, config.DeleteRunning:
		fmt.Fprintf(w, "    delete       %q\n", s.Delete)
	}
	if !s.Init {
		fmt.Fprintf(w, "    init         False (no initial sync)\n")
	}
	if s.Resync > 0 {
		fmt.Fprintf(w, "    resync       every %v\n", s.Resync)
	}
	if s.AllowEmptySource {
		fmt.Fprintf(w, "    allow_empty_source True\n")
	}
	if s.Extra != nil {
		fmt.Fprintf(w, "    extra        %s (this tree's, at %s)\n", rsync.Quote(s.Extra), s.ExtraPos)
	}
	if s.Bwlimit != "" {
		fmt.Fprintf(w, "    rspeed       %s\n", s.Bwlimit)
	}
	if s.Rsync != "" {
		fmt.Fprintf(w, "    rsync        %s\n", s.Rsync)
	}
	if len(s.After) > 0 {
		timeout := s.AfterTimeout
		if timeout == 0 {
			timeout = rsync.DefaultAfterTimeout
		}
		fmt.Fprintf(w, "    after        %s (timeout %v)\n", rsync.Quote(s.After), timeout)
	}
}

// nodeOptions is a node's options of its own, for --check -v; "" when it
// has none.
func nodeOptions(d config.Dest) string {
	var parts []string
	if d.Extra != nil {
		parts = append(parts, "extra "+rsync.Quote(d.Extra))
	}
	if d.Bwlimit != "" {
		parts = append(parts, "rspeed "+d.Bwlimit)
	}
	if d.After != nil {
		after := "none"
		if len(d.After) > 0 {
			after = rsync.Quote(d.After)
		}
		parts = append(parts, "after "+after)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}
