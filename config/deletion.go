package config

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/starlark"
)

// The deletion modes (delete, lsyncd's): which runs delete on the target
// what the source does not have.
const (
	DeleteAll     = "all"     // delete = True, the default: every run
	DeleteNone    = "none"    // delete = False: no run
	DeleteStartup = "startup" // delete = "startup": the initial sync only
	DeleteRunning = "running" // delete = "running": the runs for changes seen while running
)

// deletion reads the global delete and init settings: each tree's default.
func (b *builder) deletion(g starlark.StringDict, c *Config) error {
	c.Delete, c.Init = DeleteAll, true
	if v, ok := g["delete"]; ok && v != starlark.None {
		mode, err := deleteMode(v)
		if err != nil {
			return b.errAt(b.src.settingPos("delete"), "%v", err)
		}
		c.Delete = mode
	}
	if v, ok := g["init"]; ok && v != starlark.None {
		init, err := boolSetting("init", v)
		if err != nil {
			return b.errAt(b.src.settingPos("init"), "%v", err)
		}
		c.Init = init
	}
	return nil
}

// deleteMode reads a delete value: True, False, "startup" or "running".
func deleteMode(v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.Bool:
		if v {
			return DeleteAll, nil
		}
		return DeleteNone, nil
	case starlark.String:
		if s := string(v); s == DeleteStartup || s == DeleteRunning {
			return s, nil
		}
	}
	return "", fmt.Errorf(`delete must be True (every run deletes on the target what the source does not have), False (no run does), "startup" (only the initial sync) or "running" (only the runs for changes seen while running), got %s`, describe(v))
}

// checkDeleteOptions refuses a tree whose deletion mode is not "every run"
// while its rsync options turn deletion on themselves (--delete-after,
// --del, --delete-excluded…): rsync would delete anyway.
func (b *builder) checkDeleteOptions(c *Config) error {
	for _, s := range c.Syncs {
		if s.Delete == DeleteAll {
			continue
		}
		extra, where := c.Extra, c.ExtraPos
		if s.Extra != nil {
			extra, where = s.Extra, s.ExtraPos
		}
		for _, d := range s.Dests {
			for _, w := range append(slices.Clip(extra), d.Extra...) {
				if strings.HasPrefix(w, "--del") {
					if where == "" {
						where = b.src.name
					}
					return &Error{File: where, Msg: fmt.Sprintf("%s in the rsync options of %s deletes on the target, but delete = %s says when to: remove it", w, s.Source, deleteWord(s.Delete))}
				}
			}
		}
	}
	return nil
}

// deleteWord is a deletion mode as the config writes it.
func deleteWord(mode string) string {
	switch mode {
	case DeleteNone:
		return "False"
	case DeleteAll:
		return "True"
	}
	return `"` + mode + `"`
}
