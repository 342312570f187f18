package main

import (
	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/rsync"
)

// settings are the rsync settings of one tree of cfg.
func settings(cfg *config.Config, s config.Sync) rsync.Settings {
	st := rsync.Settings{Rsync: cfg.Rsync, Extra: cfg.Extra, Bwlimit: cfg.Bwlimit, Logfile: cfg.Logfile, Excludes: s.Excludes, Timeout: s.Timeout,
		Delete: deleteMode(s.Delete)}
	if s.Extra != nil {
		st.Extra = s.Extra
	}
	if s.Bwlimit != "" {
		st.Bwlimit = s.Bwlimit
	}
	if s.Rsync != "" {
		st.Rsync = s.Rsync
	}
	return st
}

// deleteMode is the config's deletion mode as the rsync package names it;
// an unset one ("") is the default, every run deletes.
func deleteMode(mode string) rsync.DeleteMode {
	switch mode {
	case config.DeleteNone:
		return rsync.DeleteNever
	case config.DeleteStartup:
		return rsync.DeleteStartup
	case config.DeleteRunning:
		return rsync.DeleteRunning
	}
	return rsync.DeleteAlways
}

// initialArgv returns the initial-sync command lines in run order: for
// each watched path, for each node (what --check prints).
func initialArgv(cfg *config.Config) [][]string {
	var out [][]string
	for _, s := range cfg.Syncs {
		if !s.Init {
			continue // no initial sync (init = False)
		}
		st := settings(cfg, s)
		for _, d := range s.Dests {
			out = append(out, rsync.Argv(st, s.Source, d.Path))
		}
	}
	return out
}
