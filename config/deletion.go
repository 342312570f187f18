package config

import (
	"fmt"

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
