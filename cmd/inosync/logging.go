package main

import (
	"bytes"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// newLogger makes the daemon's logger:
//   - detached (-d): plain text to syslog (ident inosync, facility daemon),
//     each level at its syslog severity;
//   - standard error is journald's stream (journalStream is the
//     JOURNAL_STREAM variable that names it): plain text, each line
//     prefixed with its syslog priority as sd-daemon(3) says, which
//     journald reads (journalctl -p warning);
//   - else standard error: human-readable on a terminal, JSON otherwise.
//
// --log-format overrides the text or JSON choice; -v lowers the level to
// debug.
func newLogger(o *options, stderr io.Writer, journalStream string) (zerolog.Logger, func(), error) {
	level := zerolog.InfoLevel
	if o.verbose {
		level = zerolog.DebugLevel
	}
	if o.detached {
		sw, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "inosync")
		if err != nil {
			return zerolog.Logger{}, nil, fmt.Errorf("cannot reach syslog (is a syslog daemon listening on /dev/log?): %w", err)
		}
		lg := zerolog.New(syslogText{sw}).Level(level)
		return lg, func() { _ = sw.Close() }, nil
	}
	f, isFile := stderr.(*os.File)
	if isFile && isJournalStream(f, journalStream) {
		w := journalWriter{out: stderr, render: plainText}
		if o.logFormat == "json" {
			w.render = nil
		}
		return zerolog.New(w).Level(level), func() {}, nil
	}
	format := o.logFormat
	if format == "" {
		format = "json"
		if isFile && isatty.IsTerminal(f.Fd()) {
			format = "console"
		}
	}
	var w io.Writer = stderr
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.DateTime, NoColor: true}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), func() {}, nil
}

// isJournalStream reports whether f is the stream that journalStream
// ("DEVICE:INODE", systemd.exec(5)'s $JOURNAL_STREAM) names.
func isJournalStream(f *os.File, journalStream string) bool {
	dev, ino, ok := strings.Cut(journalStream, ":")
	if !ok {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return dev == strconv.FormatUint(st.Dev, 10) && ino == strconv.FormatUint(st.Ino, 10)
}

// plainText renders one JSON log event as a line of text without a time
// stamp: journald and syslog stamp each line themselves.
func plainText(event []byte) []byte {
	var b bytes.Buffer
	cw := zerolog.ConsoleWriter{Out: &b, NoColor: true, PartsExclude: []string{zerolog.TimestampFieldName}}
	if _, err := cw.Write(event); err != nil {
		return event
	}
	return b.Bytes()
}

// syslogSeverity is a level's syslog severity (RFC 5424): what journald
// filters on with -p and syslog daemons file by.
func syslogSeverity(l zerolog.Level) syslog.Priority {
	switch l {
	case zerolog.TraceLevel, zerolog.DebugLevel:
		return syslog.LOG_DEBUG
	case zerolog.WarnLevel:
		return syslog.LOG_WARNING
	case zerolog.ErrorLevel:
		return syslog.LOG_ERR
	case zerolog.FatalLevel:
		return syslog.LOG_CRIT
	case zerolog.PanicLevel:
		return syslog.LOG_EMERG
	}
	return syslog.LOG_INFO
}

// journalWriter writes each event to journald's stream with its priority
// as a "<N>" prefix on every line (sd-daemon(3)); render turns the JSON
// event into text, nil keeps JSON. Safe for concurrent use: each event is
// one Write.
type journalWriter struct {
	out    io.Writer
	render func([]byte) []byte
}

func (w journalWriter) Write(p []byte) (int, error) { return w.WriteLevel(zerolog.NoLevel, p) }

func (w journalWriter) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	text := p
	if w.render != nil {
		text = w.render(p)
	}
	prefix := "<" + strconv.Itoa(int(syslogSeverity(l))) + ">"
	var b bytes.Buffer
	for line := range strings.SplitSeq(strings.TrimRight(string(text), "\n"), "\n") {
		b.WriteString(prefix)
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if _, err := w.out.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// syslogText sends each event to syslog as plain text at its level's
// severity.
type syslogText struct{ w *syslog.Writer }

func (s syslogText) Write(p []byte) (int, error) { return s.WriteLevel(zerolog.NoLevel, p) }

func (s syslogText) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	m := strings.TrimRight(string(plainText(p)), "\n")
	var err error
	switch syslogSeverity(l) {
	case syslog.LOG_DEBUG:
		err = s.w.Debug(m)
	case syslog.LOG_WARNING:
		err = s.w.Warning(m)
	case syslog.LOG_ERR:
		err = s.w.Err(m)
	case syslog.LOG_CRIT:
		err = s.w.Crit(m)
	case syslog.LOG_EMERG:
		err = s.w.Emerg(m)
	default:
		err = s.w.Info(m)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
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
