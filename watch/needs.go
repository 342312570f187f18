package watch

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Needs is what watching a config's trees takes from the per-user inotify
// limits: the instances the trees share (InstancesFor) and one for
// following the trees' roots (RootWatch), and a watch per directory not
// excluded.
type Needs struct {
	Instances, Watches int
}

// CountDirs counts the directories a Watcher of root would watch: root
// and every directory below it that exclude (Options.Exclude; nil keeps
// all) does not leave out. Directories that cannot be read are counted
// without what is below them.
func CountDirs(root string, exclude func(rel string, isDir bool) bool) (int, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return 0, err
	}
	var l lister
	n := 0
	stack := []string{root}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		k := len(stack)
		stack, err = l.appendSubdirs(stack, dir)
		if err != nil && dir == root {
			return 0, fmt.Errorf("counting the directories of %s: %w", root, err)
		}
		kept := stack[:k]
		for _, sub := range stack[k:] {
			rel := strings.TrimPrefix(strings.TrimPrefix(sub, root), "/")
			if exclude == nil || !exclude(rel, true) {
				kept = append(kept, sub)
			}
		}
		stack = kept
	}
	return n, nil
}

// CheckLimits compares n with the inotify sysctls: an error that names
// each limit the start would exceed and the value to raise it to, nil
// when both suffice. Other programs of the same user use the same limits,
// so enough here is not a promise.
func CheckLimits(n Needs) error {
	return checkLimits(n, readSysctl)
}

func checkLimits(n Needs, read func(string) (int, error)) error {
	var over []string
	for _, l := range []struct {
		sysctl, what string
		need         int
	}{
		{"max_user_instances", "inotify instances (one for trees side by side, one more for each tree inside another, one to follow the roots)", n.Instances},
		{"max_user_watches", "inotify watches (one per directory)", n.Watches},
	} {
		have, err := read(l.sysctl)
		if err != nil || l.need <= have {
			continue
		}
		key := "fs.inotify." + l.sysctl
		over = append(over, fmt.Sprintf("the trees need %d %s but %s is %d: raise it, e.g. sysctl -w %s=%d (and in /etc/sysctl.d/ for good)",
			l.need, l.what, key, have, key, suggest(l.need)))
	}
	if len(over) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(over, "; "))
}

// suggest is a limit with room beyond need for other programs and growth:
// twice the need, rounded up to a multiple of 128.
func suggest(need int) int {
	return (2*need + 127) / 128 * 128
}
