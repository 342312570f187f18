package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
)

// optionCheckTimeout bounds one dry run of --check's option check.
const optionCheckTimeout = 10 * time.Second

// checkRsyncOptions is --check's test of the options the config gives
// rsync: the rsync on PATH (never a binary that the config names) runs each
// tree's initial command line with --dry-run from an empty temp directory
// to another, contacting no node, so that an option it refuses is reported
// before the start, with where extra is set. Trees synced to an rsync
// daemon (host::module, rsync://) are left out: their daemon-only options
// would be refused locally. It returns nil, with a warning, when no rsync
// is on PATH.
func checkRsyncOptions(cfg *config.Config, warn func(string)) error {
	rs, err := exec.LookPath("rsync")
	if err != nil {
		warn("rsync not found on PATH: the rsync options were not checked")
		return nil
	}
	dir, err := os.MkdirTemp("", "inosync-check-*")
	if err != nil {
		return fmt.Errorf("checking the rsync options: %w", err)
	}
	defer os.RemoveAll(dir)
	src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")+"/"
	if err := errors.Join(os.Mkdir(src, 0o700), os.Mkdir(dst, 0o700)); err != nil {
		return fmt.Errorf("checking the rsync options: %w", err)
	}
	seen := map[string]bool{}
	for _, s := range cfg.Syncs {
		for _, d := range s.Dests {
			if err := checkDestOptions(cfg, s, d, rs, src, dst, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDestOptions is checkRsyncOptions for node d of tree s, unless its
// command line was checked already (seen) or d is an rsync daemon.
func checkDestOptions(cfg *config.Config, s config.Sync, d config.Dest, rs, src, dst string, seen map[string]bool) error {
	if toDaemon(d) {
		return nil
	}
	st := destSettings(cfg, s, d)
	st.Rsync, st.Logfile = rs, "" // rsync's own log is not written by a check
	argv := rsync.Argv(st, src, dst)
	if rsync.IsRemote(d.Path) {
		argv = receiverPathsAt(argv, dst)
	}
	argv = append(argv[:len(argv)-2:len(argv)-2], "--dry-run", "--log-file=/dev/null", src, dst)
	key := strings.Join(argv, "\x00")
	if seen[key] {
		return nil
	}
	seen[key] = true
	if err := dryRun(argv); err != nil {
		where := "extra"
		switch {
		case d.Extra != nil && s.Pos != "":
			where = s.Pos + ": sync(extra=…) or its node(extra=…)"
		case s.Extra != nil:
			where = s.ExtraPos + ": sync(extra=…)"
		case cfg.ExtraPos != "":
			where = cfg.ExtraPos + ": extra"
		}
		return fmt.Errorf("%s: %v (tree %s, node %s; checked with %s --dry-run, no node contacted)", where, err, s.Source, nodeLabel(d.Node), rs)
	}
	return nil
}

// toDaemon reports whether node d is an rsync daemon: rsync://…, or a
// HOST::MODULE before any '/'.
func toDaemon(d config.Dest) bool {
	host, _, _ := strings.Cut(d.Path, "/")
	return strings.HasPrefix(d.Path, "rsync://") || strings.Contains(host, "::")
}

// dryRun runs argv and returns rsync's first error line when it refuses
// its command line: exit 1 (a syntax or usage error) or 4 (an action it
// does not support). Other failures are not the options' (a path in extra
// that does not exist here, say) and pass.
func dryRun(argv []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), optionCheckTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	var ee *exec.ExitError
	if err == nil || (errors.As(err, &ee) && ee.ExitCode() != 1 && ee.ExitCode() != 4) {
		return nil
	}
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "rsync: ") {
			return fmt.Errorf("rsync refuses it: %s", strings.TrimSpace(line))
		}
	}
	return fmt.Errorf("rsync refuses it: %v: %s", err, strings.TrimSpace(string(out)))
}

// nodeLabel names a node in messages: "(local)" for a local target.
func nodeLabel(node string) string {
	if node == "" {
		return "(local)"
	}
	return node
}

// receiverPaths are the rsync options whose value is a directory on the
// receiving side: on a node, not here.
var receiverPaths = []string{"--temp-dir", "--backup-dir", "--partial-dir", "--compare-dest", "--copy-dest", "--link-dest"}

// receiverPathsAt returns argv with the values of its receiver-side path
// options (which name directories on the node) replaced by dir, which
// exists: the local dry run checks the options, not the node's
// directories. A value may follow as the next word (--temp-dir /x, -T /x)
// or be attached (--temp-dir=/x, -T/x, -aT/x).
func receiverPathsAt(argv []string, dir string) []string {
	out := make([]string, 0, len(argv))
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case slices.Contains(receiverPaths, a) && i+1 < len(argv): // --temp-dir /x
			out = append(out, a, dir)
			i++
			continue
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--"):
			if j := strings.IndexByte(a, 'T'); j > 0 && !strings.ContainsAny(a[1:j], shortWithValue) {
				if j == len(a)-1 && i+1 < len(argv) { // -T /x, -aT /x
					out = append(out, a, dir)
					i++
					continue
				}
				a = a[:j+1] + dir // -T/x, -aT/x
			}
		default:
			for _, o := range receiverPaths {
				if strings.HasPrefix(a, o+"=") {
					a = o + "=" + dir
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// shortWithValue are rsync's one-letter options that take a value: in a
// bundle, what follows the first of them is its value, not more options.
const shortWithValue = "BeTfM@"
