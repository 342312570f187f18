package config

import (
	"fmt"
	"net"
	"path/filepath"
	"time"

	"go.starlark.net/starlark"
)

// Defaults of the settings for watching the daemon.
const (
	DefaultStatusInterval = 10 * time.Second
)

// observe reads the settings that say where the daemon reports and how
// it repairs drift: control_socket, status_file, status_interval,
// metrics_listen and resync_interval.
func (b *builder) observe(g starlark.StringDict, c *Config) error {
	var err error
	for _, it := range []struct {
		name string
		dst  *string
	}{{"control_socket", &c.ControlSocket}, {"status_file", &c.StatusFile}} {
		if *it.dst, err = b.optString(g, it.name); err != nil {
			return err
		}
		if *it.dst != "" && !filepath.IsAbs(*it.dst) {
			return b.errAt(b.src.settingPos(it.name), "%s must be an absolute path, got %q", it.name, *it.dst)
		}
	}
	if c.MetricsListen, err = b.optString(g, "metrics_listen"); err != nil {
		return err
	}
	if c.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil || port == "" {
			return b.errAt(b.src.settingPos("metrics_listen"), "metrics_listen must be an address and port such as \"127.0.0.1:9810\", got %q", c.MetricsListen)
		}
	}
	if c.StatusInterval, err = b.seconds(g, "status_interval", DefaultStatusInterval, false); err != nil {
		return err
	}
	if c.ResyncInterval, err = b.seconds(g, "resync_interval", 0, true); err != nil {
		return err
	}
	return nil
}

// seconds reads a setting in seconds (a number from 0 to a day); zeroOK
// says whether 0 (off) is allowed.
func (b *builder) seconds(g starlark.StringDict, name string, def time.Duration, zeroOK bool) (time.Duration, error) {
	v, ok := g[name]
	if !ok || v == starlark.None {
		return def, nil
	}
	d, err := intervalSeconds(v, zeroOK)
	if err != nil {
		return 0, b.errAt(b.src.settingPos(name), "%s %v", name, err)
	}
	return d, nil
}

// intervalSeconds reads an interval in seconds: 0 (when zeroOK, meaning
// off) or from one second to a week.
func intervalSeconds(v starlark.Value, zeroOK bool) (time.Duration, error) {
	secs, err := number(v)
	if err != nil {
		return 0, err
	}
	switch {
	case secs == 0 && zeroOK:
		return 0, nil
	case secs >= 1 && secs <= week:
		return time.Duration(secs * float64(time.Second)), nil
	case zeroOK:
		return 0, fmt.Errorf("must be 0 (off) or a number of seconds from 1 to %d (a week), got %s", week, v.String())
	}
	return 0, fmt.Errorf("must be a number of seconds from 1 to %d (a week), got %s", week, v.String())
}

const week = 7 * 24 * 3600
