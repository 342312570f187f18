package rsync

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/inosync/inosync/rsync/operand"
)

// Settings are the plain values the rsync command line is built from, as
// config validation leaves them.
type Settings struct {
	Rsync    string   // absolute path of the rsync binary
	Extra    []string // the words of `extra`, already split
	Bwlimit  string   // value of --bwlimit (always present, "0" by default)
	Logfile  string   // --log-file value; "" = none
	Excludes []string // one --exclude= per entry
	// Timeout is rsync's I/O timeout (--timeout) for the runs after the
	// initial one, whose argv stays 0.2.3's; 0 = none.
	Timeout time.Duration
	// Delete says which runs delete on the target what is not in the
	// source (the config's delete); the zero value is 0.2.3's: all.
	Delete DeleteMode
}

// DeleteMode says which runs delete on the target what the source does not
// have (lsyncd's delete setting).
type DeleteMode int

// The deletion modes.
const (
	DeleteAlways  DeleteMode = iota // every run (delete = True)
	DeleteNever                     // no run (delete = False)
	DeleteStartup                   // the initial sync only (delete = "startup")
	DeleteRunning                   // the runs for changes seen while running (delete = "running")
)

// initial, later and lists report whether the initial sync, a later full
// sync (after an overflow, past max_pending, a resync) and a list run for
// changes delete.
func (m DeleteMode) initial() bool { return m == DeleteAlways || m == DeleteStartup }
func (m DeleteMode) later() bool   { return m == DeleteAlways }
func (m DeleteMode) lists() bool   { return m == DeleteAlways || m == DeleteRunning }

// Argv returns the initial-sync command line of inosync 0.2.3 for one
// watched path and one destination:
//
//	RSYNC -ltrp --delete [EXTRA…] --bwlimit=RSPEED [--log-file=LOGFILE] [--exclude=X…] SOURCE DEST
//
// SOURCE is the watched path as written (its trailing slash decides whether
// rsync copies the directory or its contents) and DEST the whole destination
// (node + remote path). Every value is one argument: no shell ever sees it.
// --delete is left out when the deletion mode keeps the initial sync from
// deleting (delete = False or "running").
func Argv(s Settings, source, dest string) []string {
	return argvDeleting(s, source, dest, s.Delete.initial())
}

// argvDeleting is Argv with --delete when del.
func argvDeleting(s Settings, source, dest string, del bool) []string {
	argv := make([]string, 0, 8+len(s.Extra)+len(s.Excludes))
	argv = append(argv, s.Rsync, "-ltrp")
	if del {
		argv = append(argv, "--delete")
	}
	argv = append(argv, s.Extra...)
	argv = append(argv, s.options()...)
	return append(argv, source, dest)
}

// options are the settings-derived options that follow EXTRA.
func (s Settings) options() []string {
	opts := []string{"--bwlimit=" + s.Bwlimit}
	if s.Logfile != "" {
		opts = append(opts, "--log-file="+s.Logfile)
	}
	for _, x := range s.Excludes {
		opts = append(opts, "--exclude="+x)
	}
	return opts
}

// Quote renders argv as one line that a POSIX shell splits back into the
// same words, quoting like Python's shlex.join: a word made only of
// letters, digits and @%+=:,./-_ stays bare, the empty word is ”, and any
// other word is single-quoted (a quote inside becomes '"'"').
func Quote(argv []string) string {
	var b strings.Builder
	for i, w := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteWord(w))
	}
	return b.String()
}

func quoteWord(w string) string {
	if w == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(w); i++ {
		if !isSafe(w[i]) {
			safe = false
			break
		}
	}
	if safe {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'"'"'`) + "'"
}

func isSafe(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("@%+=:,./-_", c) >= 0
}

// Later runs differ from the initial one only in options that leave the
// target as the full run would: nanosecond mtime comparison (a same-size
// rewrite within one second is not missed; needs rsync 3.1.3 or later on
// the receiver) and, for changed paths, the list on standard input.
var (
	laterOpts = []string{"--modify-window=-1"}
	listOpts  = []string{"--from0", "--files-from=-"}
)

// RescanArgv is the command line of a full sync after the initial one
// (after an inotify queue overflow, when too many paths are pending, a
// resync, or for the changes of a tree whose extra adds filter rules): it
// reports what it transferred (statsOption). It deletes only with delete
// = True: with "running", deleting what the source lacks would delete the
// target's own files too.
func RescanArgv(s Settings, source, dest string) []string {
	argv := argvDeleting(s, source, dest, s.Delete.later())
	return insertBeforeOperands(argv, append(s.laterOpts(), statsOption))
}

// laterOpts are the options that every run after the initial one adds.
func (s Settings) laterOpts() []string {
	opts := append([]string(nil), laterOpts...)
	if s.Timeout > 0 {
		opts = append(opts, "--timeout="+strconv.Itoa(int((s.Timeout+time.Second-1)/time.Second)))
	}
	return opts
}

// ListArgv is the command line that syncs only listed paths of a tree. The
// paths go on standard input, NUL-terminated, each prefixed by prefix.
// rsync reads them relative to the returned base directory, which is chosen
// so that the target ends exactly as the full run of Argv would leave it:
// for a source written with a trailing slash the base is the source itself,
// else its parent, below which the source's files are under its name.
// Missing paths are deleted on the target (--delete-missing-args); listed
// directories are synced recursively with --delete.
//
// prefix starts with "./", which makes rsync send the base itself as an
// implied directory (the target is then a directory even when it does not
// exist yet and one file is listed), and keeps a name that begins with '#'
// or ';' from being read as a comment (--files-from skips those, even with
// --from0).
func ListArgv(s Settings, source, dest string) (argv []string, prefix string) {
	base, below := operand.Root(source)
	return listArgv(s, base, dest), "./" + below
}

// WaitingListArgv is ListArgv for an rsync started before its list is known
// (see warmRsync): rsync starts in the filesystem root (or, for a relative
// source, the daemon's working directory), and prefix names the base
// followed by rsync's "/./" mark, which ends the part of a name that is not
// sent. So rsync enters the tree only when it reads the list: while it
// waits it keeps no filesystem busy, and it reads from the directory the
// path leads to then (a root replaced meanwhile by a deploy). rsync reads
// its list a byte at a time, two system calls each, so the longer names
// cost about a microsecond per byte: this form is for short lists.
func WaitingListArgv(s Settings, source, dest string) (argv []string, prefix string) {
	base, below := operand.Root(source)
	operand, mark := listRoot(base)
	return listArgv(s, operand, dest), mark + "./" + below
}

// listArgv is a list run's command line from the directory base. A list
// run that may not delete (the deletion mode) skips the paths that are
// gone (--ignore-missing-args) and syncs listed directories without
// --delete.
func listArgv(s Settings, base, dest string) []string {
	del := s.Delete.lists()
	argv := argvDeleting(s, base, dest, del)
	argv = insertBeforeOperands(argv, s.laterOpts())
	missing := "--delete-missing-args"
	if !del {
		missing = "--ignore-missing-args"
	}
	return insertBeforeOperands(argv, append(listOpts[:len(listOpts):len(listOpts)], missing))
}

// listRoot is the directory a waiting list run's rsync starts in for the
// transfer root base, and the start of every name it reads: base's path
// from there and the "/./" mark, or nothing when base is that directory.
func listRoot(base string) (operand, mark string) {
	clean := filepath.Clean(base)
	operand = "."
	if filepath.IsAbs(clean) {
		operand = "/"
	}
	rel := strings.TrimPrefix(clean, "/")
	if rel == "" || rel == "." {
		return operand, ""
	}
	return operand, "./" + rel + "/./"
}

// insertBeforeOperands puts opts before the last two words (source, dest).
func insertBeforeOperands(argv, opts []string) []string {
	n := len(argv) - 2
	out := make([]string, 0, len(argv)+len(opts))
	out = append(out, argv[:n]...)
	out = append(out, opts...)
	return append(out, argv[n:]...)
}
