package rsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/inosync/inosync/rsync/operand"
	"github.com/rs/zerolog"
)

// A rename within a tree is, for a list run, a deletion of the old name
// and a new name synced recursively: its data sent again. Before that run
// deletes the old name on the target, the new one is copied there from it
// by rsync alone: a directory with --link-dest pointing at the old one
// where the run deletes it (a file identical in size and time is
// hard-linked on the receiver, another sent as a delta against it), else
// --copy-dest (copied rather than linked), a file with --fuzzy looking in
// the old directory for a basis (a delta against the old file). The run then
// finds the new name in place and sends nothing of it; the target ends as
// the run alone would leave it, since the run still syncs the new name
// recursively and deletes the old one.

// movesMax bounds the moves copied before one run: each is an rsync of
// its own.
const movesMax = 16

// addMoves records renames among paths that are about to join the job's
// pending set. A new name that is pending already (or below or above a
// pending path) is left out: an earlier change there, not yet synced, may
// have left on the target what the copy would write through (a symlink
// where the new directory goes).
func (j *jobState) addMoves(moves []Move) {
	if len(moves) == 0 || j.full {
		return
	}
	for _, m := range moves {
		if len(j.moves) >= movesMax || !safeName(m.From) || !safeName(m.To) || j.pendingNear(m.To) {
			continue
		}
		if j.moves == nil {
			j.moves = map[string]string{}
		}
		j.moves[m.To] = m.From
	}
}

// pendingNear reports whether rel, or a path below or above it, is
// pending.
func (j *jobState) pendingNear(rel string) bool {
	for p := range j.pending {
		if related(strings.TrimSuffix(p, "/"), rel) {
			return true
		}
	}
	return false
}

// safeName reports whether a name may go on a command line: the copy
// names its paths as operands, which a remote rsync (or an rsync daemon)
// may expand as wildcards or, before rsync 3.2.4, split at spaces; a name
// of other characters is sent again by the run instead.
func safeName(rel string) bool {
	for i := 0; i < len(rel); i++ {
		if !isSafe(rel[i]) {
			return false
		}
	}
	return rel != ""
}

// takeMoves returns the recorded moves whose names are both among paths
// (a run's sorted list), at most movesMax, when the job's rules let a
// move be copied safely (movesSafe).
func (j *jobState) takeMoves(paths []string) []Move {
	if len(j.moves) == 0 || !movesSafe(j.Job) {
		return nil
	}
	listed := func(rel string) bool {
		_, f := slices.BinarySearch(paths, rel)
		_, d := slices.BinarySearch(paths, rel+"/")
		return f || d
	}
	var ms []Move
	for to, from := range j.moves {
		if listed(to) && listed(from) && len(ms) < movesMax {
			ms = append(ms, Move{From: from, To: to})
		}
	}
	slices.SortFunc(ms, func(a, b Move) int { return strings.Compare(a.To, b.To) })
	return ms
}

// movesSafe reports whether a move may be copied with the job's rules and
// options: the copy runs from the new name, not from the tree's root, so
// a rule anchored at the root (a pattern with a '/' before its end, or
// '**', which matches across directories), one from a file, an exclude
// function (which sees paths from the root), a relative --backup-dir,
// --prune-empty-dirs or a basis directory of extra's own could leave on
// the target what the run would not, or fail. Such jobs send their moves
// again instead.
func movesSafe(j Job) bool {
	if j.Exclude != nil {
		return false
	}
	for _, x := range j.Settings.Excludes {
		if strings.Contains(strings.TrimSuffix(x, "/"), "/") || strings.Contains(x, "**") {
			return false
		}
	}
	for _, w := range j.Settings.Extra {
		name, val, _ := strings.Cut(w, "=")
		switch name {
		case "--exclude", "--include", "--filter", "--exclude-from", "--include-from", "--files-from", "--cvs-exclude",
			"--prune-empty-dirs", "--link-dest", "--copy-dest", "--compare-dest", "--fuzzy", "--backup-dir":
			if name != "--backup-dir" || !strings.HasPrefix(val, "/") {
				return false
			}
		}
		if shortOptions(w, "CfFmy") {
			return false // a cluster of short options with one of them
		}
	}
	return true
}

// moveArgv is the command line that copies m on the target of a tree
// synced from source to dest: the new name from the source, with the old
// one on the target as its basis. dir says whether m is a directory; link
// (for a directory) hard-links its unchanged files from the old name
// rather than copying them (see linkable). st is the run's settings (its
// ssh options included).
func moveArgv(st Settings, source, dest string, m Move, dir, link bool) []string {
	base, below := operand.Root(source)
	if dest != "" && !strings.HasSuffix(dest, "/") && !strings.HasSuffix(dest, ":") {
		dest += "/" // "web1:" is the home directory there, "web1:/" its root
	}
	to, from := below+m.To, below+m.From
	var src, dst string
	var opts []string
	if dir {
		src, dst = base+to+"/", dest+to+"/"
		opts = []string{"--copy-dest=" + relFrom(to, from)}
		if link {
			opts = []string{"--link-dest=" + relFrom(to, from)}
		}
	} else {
		// A delta against the basis, also to a local node (whose
		// default is to send whole files); by content, not by size and
		// time, where the new name holds a file already (see noteRenamed).
		src, dst = base+to, dest+parentDir(to)+"/"
		opts = []string{"--no-whole-file", "--ignore-times", "--fuzzy"}
		if parentDir(to) != parentDir(from) {
			opts = append(opts, "--fuzzy", "--copy-dest="+relFrom(parentDir(to), parentDir(from)))
		}
	}
	argv := argvDeleting(st, src, dst, false)
	opts = append(append(st.laterOpts(), statsOption), opts...)
	return insertBeforeOperands(argv, opts)
}

// linkable says whether the directory renamed by m may have its files
// hard-linked on the target from its old name (rsync --link-dest) rather
// than copied, which costs no data and no disk space there: the run after
// the copy deletes the old name (it is gone from the source, that run
// deletes, and no --max-delete may spare it nor --backup keep it), so
// every new name ends with its own inode as a full run leaves it; and
// nothing in extra writes into target files in place, where a shared
// inode would carry one name's write to the other meanwhile. (A run that
// meets an I/O error deletes nothing: the names stay linked until its
// retry deletes the old one.)
func linkable(st Settings, source string, m Move) bool {
	if !st.Delete.lists() {
		return false
	}
	for _, w := range st.Extra {
		switch name, _, _ := strings.Cut(w, "="); name {
		case "--inplace", "--append", "--append-verify", "--write-devices", "--max-delete", "--backup", "--backup-dir":
			return false
		}
		if shortOptions(w, "b") {
			return false // a cluster of short options with -b
		}
	}
	_, err := os.Lstat(filepath.Join(source, m.From))
	return errors.Is(err, fs.ErrNotExist)
}

// shortOptions says whether word w of extra is a cluster of short options
// (-avz) holding one of letters.
func shortOptions(w, letters string) bool {
	return strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.ContainsAny(w[1:], letters)
}

// relFrom is the path of directory target relative to directory dir,
// both relative to one root ("" is the root).
func relFrom(dir, target string) string {
	up := ""
	if dir != "" {
		up = strings.Repeat("../", strings.Count(dir, "/")+1)
	}
	if target == "" {
		if up == "" {
			return "."
		}
		return strings.TrimSuffix(up, "/")
	}
	return up + target
}

// parentDir is the directory part of a relative path, "" for the root.
func parentDir(rel string) string {
	if d := path.Dir(rel); d != "." {
		return d
	}
	return ""
}

// copyMoves copies the run's moves on the target before its list goes:
// one rsync each, its failure only logged (the run then sends the data)
// and its new name returned, to be sent by content. Pretending, it says
// what it would run.
func (d *dispatcher) copyMoves(j Job, st Settings, run running, lg zerolog.Logger) (failed []string) {
	for _, m := range run.moves {
		_, dir := slices.BinarySearch(run.paths, m.To+"/")
		argv := moveArgv(st, j.Path, j.Dest, m, dir, dir && linkable(st, j.Path, m))
		if d.o.Pretend {
			lg.Info().Str("argv", Quote(argv)).Str("from", m.From).Str("to", m.To).Msg("would execute")
			continue
		}
		if d.kill.Err() != nil {
			return failed // stopping: the run is killed too
		}
		output, err := d.execCold(invocation{argv: argv})
		if err != nil {
			failed = append(failed, m.To)
			exit, _ := classify(err, argv[0])
			// "rsync: [sender] link_stat … failed" says more than the summary.
			lg.Warn().Str("from", m.From).Str("to", m.To).Int("exit", exit).Str("output", errorLine(output)).
				Msg("copying a rename on the target from its old name failed; the run sends it")
		} else {
			addStats(lg.Info().Str("from", m.From).Str("to", m.To), output).Msg("rename copied on the target from its old name")
		}
		if le := lg.Debug(); le.Enabled() {
			le.Str("argv", Quote(argv)).Str("output", output).Msg("rsync output")
		}
	}
	return failed
}

// Under a rename's new name the target may still hold another file: the
// one the name held before (a swap through a third name, a rotation
// r1 → r2, r0 → r1, or a file renamed over another). rsync's quick check
// cannot tell the two apart when their sizes and modification times are
// equal, which is common for files renamed in turn (written in one clock
// tick, or with their times kept by tar or cp -p): it would skip the name
// and leave the other file there, and a full sync would not notice
// either. So a move copied before a run is copied with --ignore-times
// (see moveArgv), and every other new name that is a file, and those
// whose copy failed, are sent by content (--ignore-times) in an rsync of
// their own before the run (sendByContent): only those files, so that the
// run, which may be warm, keeps its quick check for everything else.

// renamedMax bounds the new names a job keeps for sendByContent when
// MaxPending does not (it is 0).
const renamedMax = 10000

// noteRenamed records renames' new names for job j's next run (see
// takeRenamed); past max_pending names the rest are not kept, and the
// log says so.
func (d *dispatcher) noteRenamed(j *jobState, names []string) {
	limit := d.o.MaxPending
	if limit <= 0 {
		limit = renamedMax
	}
	lost := 0
	for _, n := range names {
		if j.renamed == nil {
			j.renamed = map[string]struct{}{}
		}
		if _, ok := j.renamed[n]; !ok && len(j.renamed) >= limit {
			lost++
			continue
		}
		j.renamed[n] = struct{}{}
	}
	if lost > 0 {
		lg := d.jobLogger(j)
		lg.Warn().Int("names", lost).Msg("more renames waiting than max_pending: these new names are compared by size and time only, and a file renamed over another of the same size and time may stay on the node")
	}
}

// takeRenamed returns, sorted, the new names a run of paths (sorted; all
// of the tree when full) covers and no move of copied puts in place, and
// forgets every name it covers; the others wait for the run that lists
// them.
func (j *jobState) takeRenamed(paths []string, full bool, copied []Move) []string {
	var out []string
	for name := range j.renamed {
		if !full && !listedOrBelow(paths, name) {
			continue
		}
		delete(j.renamed, name)
		if !slices.ContainsFunc(copied, func(m Move) bool { return m.To == name }) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// listedOrBelow reports whether rel is in paths (sorted; a directory ends
// in '/'), as a name or as a directory, or below a directory there. A
// name listed without its '/' is synced recursively too (see fileList).
func listedOrBelow(paths []string, rel string) bool {
	for p := rel; ; {
		if _, ok := slices.BinarySearch(paths, p); ok {
			return true
		}
		if _, ok := slices.BinarySearch(paths, p+"/"); ok {
			return true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// sendByContent sends the files among names (relative to the tree) by
// content, not by size and time, in one rsync before run; names that are
// not regular files on the source now, that run leaves out (set-aside
// paths) or that the config's exclude function excludes (or a directory
// above them) are left to it. Pretending, it says what it would run. It
// returns rsync's exit and output when it failed.
func (d *dispatcher) sendByContent(j Job, st Settings, run running, names []string, lg zerolog.Logger) (exit int, output string, err error) {
	var files []string
	for _, n := range names {
		if fi, err := os.Lstat(filepath.Join(j.Path, n)); err == nil && fi.Mode().IsRegular() && !leftOut(n, run.exclude, j.Exclude) {
			files = append(files, n)
		}
	}
	if len(files) == 0 {
		return exitOK, "", nil
	}
	argv, prefix := ListArgv(st, j.Path, j.Dest)
	argv = insertBeforeOperands(argv, []string{"--ignore-times"})
	if d.o.Pretend {
		lg.Info().Str("argv", Quote(argv)).Strs("renamed", files).Msg("would execute")
		return exitOK, "", nil
	}
	output, err = d.execCold(invocation{argv: argv, stdin: fileList(prefix, files)})
	if le := lg.Debug(); le.Enabled() {
		le.Str("argv", Quote(argv)).Strs("list", files).Str("output", output).Msg("rsync output")
	}
	if exit, err = classify(err, argv[0]); err != nil {
		return exit, output, fmt.Errorf("sending renamed files by content: %w", err)
	}
	addStats(lg.Info().Strs("renamed", files), output).Msg("renamed files sent by content, not by size and time: the node may have held other files under their names")
	return exit, "", nil
}

// leftOut reports whether rel (a file) is at or below one of exclude, or
// excluded, or below a directory excluded, by the exclude function.
func leftOut(rel string, exclude []string, excluded func(rel string, isDir bool) bool) bool {
	for _, x := range exclude {
		if x = strings.TrimSuffix(x, "/"); rel == x || strings.HasPrefix(rel, x+"/") {
			return true
		}
	}
	if excluded == nil {
		return false
	}
	if excluded(rel, false) {
		return true
	}
	for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
		if excluded(dir, true) {
			return true
		}
	}
	return false
}

// movedTo returns the new names of moves.
func movedTo(moves []Move) []string {
	out := make([]string, 0, len(moves))
	for _, m := range moves {
		out = append(out, m.To)
	}
	return out
}
