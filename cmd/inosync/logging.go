package main

import (
	"fmt"
	"io"
	"log/syslog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// newLogger makes the daemon's logger: syslog (ident inosync, facility
// daemon) when detached, else stderr, human-readable on a terminal and
// JSON otherwise unless --log-format says. -v lowers the level to debug.
func newLogger(o *options, stderr io.Writer) (zerolog.Logger, func(), error) {
	level := zerolog.InfoLevel
	if o.verbose {
		level = zerolog.DebugLevel
	}
	if o.detached {
		sw, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "inosync")
		if err != nil {
			return zerolog.Logger{}, nil, fmt.Errorf("cannot reach syslog (is a syslog daemon listening on /dev/log?): %w", err)
		}
		lg := zerolog.New(zerolog.SyslogLevelWriter(sw)).Level(level).With().Timestamp().Logger()
		return lg, func() { _ = sw.Close() }, nil
	}
	format := o.logFormat
	if format == "" {
		format = "json"
		if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "console"
		}
	}
	var w io.Writer = stderr
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.DateTime, NoColor: true}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), func() {}, nil
}

// detach re-executes inosync in a new session with --detached (Go cannot
// fork), its standard streams on /dev/null, and returns 0 as 0.2.3's
// daemonizing parent did once the config was valid. The child logs to
// syslog.
func detach(stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "inosync: cannot daemonize: %v\n", err)
		return 1
	}
	// Refuse early, in the foreground, if syslog cannot be reached: a
	// detached daemon would have nowhere to say why it stopped.
	if sw, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "inosync"); err != nil {
		fmt.Fprintf(stderr, "inosync: cannot daemonize: cannot reach syslog (is a syslog daemon listening on /dev/log?): %v\n", err)
		return 1
	} else {
		_ = sw.Close()
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(stderr, "inosync: cannot daemonize: %v\n", err)
		return 1
	}
	defer null.Close()
	cmd := exec.Command(self, append(os.Args[1:], "--detached")...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "inosync: cannot daemonize: %v\n", err)
		return 1
	}
	_ = cmd.Process.Release()
	return 0
}
