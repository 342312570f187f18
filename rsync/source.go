package rsync

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/inosync/inosync/rsync/operand"
)

// exitRefused is the exit code of a run that the source guard refused:
// no rsync ran (see guard).
const exitRefused = -2

// refusedError is why the guard refused a run.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// guard says whether a run of j may go: the tree's source must still be
// the directory it was (Job.CheckSource), and a full run, which deletes
// on the target what the source lacks, must not run from an empty source
// to a target that is not empty, unless the tree allows it
// (Job.AllowEmptySource): an unmounted filesystem or a deleted tree would
// otherwise wipe every mirror.
func (d *dispatcher) guard(j Job, full bool) error {
	if j.CheckSource != nil {
		if err := j.CheckSource(); err != nil {
			return &refusedError{err}
		}
	}
	if !full || j.AllowEmptySource {
		return nil
	}
	base, prefix := operand.Root(j.Path)
	empty, err := emptyDir(filepath.Join(base, prefix))
	if err != nil || !empty {
		return nil // a source that cannot be read fails in rsync, and says why
	}
	target := targetDir(j.Path, j.Dest)
	tempty, err := d.targetEmpty(j, target)
	switch {
	case err != nil:
		return &refusedError{fmt.Errorf("the source %s is empty and whether the target %s is empty cannot be told (%v): a full sync would delete everything there; set allow_empty_source = True for this tree if it is meant to be empty", j.Path, target, err)}
	case !tempty:
		return &refusedError{fmt.Errorf("the source %s is empty but the target %s is not: a full sync would delete everything there (an unmounted filesystem or a deleted tree?); set allow_empty_source = True for this tree if it is meant to be empty", j.Path, target)}
	}
	return nil
}

// emptyDir reports whether dir has no entries but lost+found; one that
// does not exist is empty. A freshly made ext2/3/4 filesystem holds only
// lost+found: mounted by mistake over a source, it is as empty as the
// directory it hides.
func emptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	for _, n := range names {
		if n != "lost+found" {
			return false, nil
		}
	}
	return true, nil
}

// targetDir is the directory on the node that a full run of source to
// dest makes the same as the source: dest itself for a source written with
// a trailing slash (its contents are copied), else the source's name
// below dest.
func targetDir(source, dest string) string {
	_, prefix := operand.Root(source)
	if prefix == "" {
		return dest
	}
	if dest == "" || strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, ":") {
		return dest + strings.TrimSuffix(prefix, "/")
	}
	return dest + "/" + strings.TrimSuffix(prefix, "/")
}

// targetEmpty reports whether the target directory has no entries (or
// does not exist): read directly when local, listed with rsync
// --list-only, one level deep, over the job's own remote shell, when
// remote.
func (d *dispatcher) targetEmpty(j Job, target string) (bool, error) {
	if !IsRemote(target) {
		return emptyDir(target)
	}
	extra := withSSHOptions(j.Settings.Extra, d.o.SSHControlDir, j.Settings.sshTimeouts())
	argv := append([]string{j.Settings.Rsync}, extra...)
	argv = append(argv, "--list-only", "--no-recursive", "--dirs", strings.TrimSuffix(target, "/")+"/")
	listing, errText, err := d.output(argv, listTimeout(j.Settings.Timeout))
	exit, ferr := classify(err, argv[0])
	switch {
	case ferr == nil:
	case exit == exitPartial && strings.Contains(errText, "No such file or directory"):
		return true, nil // no target yet: nothing there to delete
	default:
		return false, fmt.Errorf("%w: %s", ferr, lastLine(errText))
	}
	for line := range strings.SplitSeq(listing, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasSuffix(line, " .") {
			return false, nil
		}
	}
	return true, nil
}

// output runs argv (killed, with everything it started, after limit or at
// the dispatcher's kill) and returns the tails of its standard output and
// standard error, and how it ended.
func (d *dispatcher) output(argv []string, limit time.Duration) (stdout, stderr string, err error) {
	out, err := unlinkedTemp()
	if err != nil {
		return "", "", err
	}
	defer out.Close()
	errf, err := unlinkedTemp()
	if err != nil {
		return "", "", err
	}
	defer errf.Close()
	cmd := command(d.kill, argv, nil)
	cmd.Stdout, cmd.Stderr = out, errf
	if err = cmd.Start(); err == nil {
		done := make(chan error, 1)
		go func() { done <- wait(cmd) }()
		t := time.NewTimer(limit)
		select {
		case err = <-done:
		case <-t.C:
			_ = cmd.Cancel()
			<-done
			err = fmt.Errorf("%s took longer than %v", argv[0], limit)
		}
		t.Stop()
	}
	return outputTail(out), outputTail(errf), err
}

// listTimeout bounds the target listing of the guard.
func listTimeout(io time.Duration) time.Duration {
	if io > 0 {
		return io
	}
	return DefaultSlowRun
}
