package config

import (
	"fmt"
	"time"

	"go.starlark.net/starlark"
)

// DefaultRsyncTimeout is timeout's default: rsync's I/O timeout for the runs
// after the initial one.
const DefaultRsyncTimeout = 300 * time.Second

// safety reads the settings that keep a node from hanging a tree and a
// lost source from emptying a target: timeout and allow_empty_source.
func (b *builder) safety(g starlark.StringDict, c *Config) error {
	var err error
	if c.Timeout, err = b.seconds(g, "timeout", DefaultRsyncTimeout, true); err != nil {
		return err
	}
	if v, ok := g["allow_empty_source"]; ok && v != starlark.None {
		if c.AllowEmptySource, err = boolSetting("allow_empty_source", v); err != nil {
			return b.errAt(b.src.settingPos("allow_empty_source"), "%v", err)
		}
	}
	return nil
}

// boolSetting reads a setting that must be True or False.
func boolSetting(name string, v starlark.Value) (bool, error) {
	bv, ok := v.(starlark.Bool)
	if !ok {
		return false, fmt.Errorf("%s must be True or False, got %s", name, describe(v))
	}
	return bool(bv), nil
}
