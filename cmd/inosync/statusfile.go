package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/config"
)

// statusFile writes the status report to status_file when it changed, at
// most every status_interval (lsyncd's statusFile). While nothing
// changes no timer runs. Only the supervisor's goroutine touches it.
type statusFile struct {
	path    string
	lg      zerolog.Logger
	enabled bool // the daemon started with a status file (see configure)
	limit   rateLimit
}

func newStatusFile(cfg *config.Config, lg zerolog.Logger) *statusFile {
	f := &statusFile{lg: lg, enabled: cfg.StatusFile != ""}
	f.configure(cfg)
	return f
}

// statusNotices is the channel on which the dispatcher and the coalescers
// say that the status may have changed: only when someone reads it as it
// changes (a status file, systemd's STATUS=), so that otherwise a change
// wakes nobody but the pipeline.
func statusNotices(cfg *config.Config, systemd bool) chan struct{} {
	if cfg.StatusFile == "" && !systemd {
		return nil
	}
	return make(chan struct{}, 1)
}

// configure takes the path and interval of a (re)loaded config. A status
// file named by a reload when the daemon started without one waits for a
// restart (nothing sends the notices it needs).
func (f *statusFile) configure(cfg *config.Config) {
	f.limit.interval = cfg.StatusInterval
	if f.enabled {
		f.path = cfg.StatusFile
	}
}

// changed notes that the report may have changed.
func (f *statusFile) changed() {
	if f.path != "" {
		f.limit.mark()
	}
}

// due delivers when a write is due; nil (never) when none is.
func (f *statusFile) due() <-chan time.Time { return f.limit.due() }

// write replaces the file with r, atomically (a temp file beside it,
// renamed over it): JSON when the file name ends in .json, else text.
func (f *statusFile) write(r status.Report) {
	if !f.limit.take() || f.path == "" {
		return
	}
	var b bytes.Buffer
	if strings.HasSuffix(f.path, ".json") {
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
	} else {
		_ = r.WriteText(&b)
	}
	if err := writeAtomic(f.path, b.Bytes()); err != nil {
		f.lg.Warn().Err(err).Str("status_file", f.path).Msg("cannot write the status file")
	}
}

// final writes r, the report of a daemon that has stopped, at once.
func (f *statusFile) final(r status.Report) {
	f.limit.dirty = true
	f.write(r)
}

// stop ends the timer.
func (f *statusFile) stop() { f.limit.stop() }

// writeAtomic replaces path with data: readers see the old or the new
// file whole, never a part.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("status file: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("status file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("status file: %w", err)
	}
	return nil
}
