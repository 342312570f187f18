package main

import (
	"slices"

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

// destSettings are the rsync settings of one node d of tree s: the
// tree's, with the node's own options (node(extra=…, rspeed=…)); its extra
// goes after the tree's.
func destSettings(cfg *config.Config, s config.Sync, d config.Dest) rsync.Settings {
	st := settings(cfg, s)
	if d.Extra != nil {
		st.Extra = append(slices.Clip(st.Extra), d.Extra...)
	}
	if d.Bwlimit != "" {
		st.Bwlimit = d.Bwlimit
	}
	return st
}

// afterCommand is the after command of node d of tree s: the node's own,
// else the tree's; nil when none.
func afterCommand(s config.Sync, d config.Dest) *rsync.AfterCommand {
	argv := s.After
	if d.After != nil {
		argv = d.After
	}
	if len(argv) == 0 {
		return nil
	}
	return &rsync.AfterCommand{Argv: argv, Timeout: s.AfterTimeout}
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
		for _, d := range s.Dests {
			out = append(out, rsync.Argv(destSettings(cfg, s, d), s.Source, d.Path))
		}
	}
	return out
}
