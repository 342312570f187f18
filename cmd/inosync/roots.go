package main

import (
	"errors"

	"github.com/inosync/inosync/rsync"
	"github.com/inosync/inosync/watch"
)

// checkRoots follows each tree's path after something changed that may
// make it lead elsewhere (see watch.RootWatch):
//   - to the same directory: nothing to do, or, for a tree whose source
//     was lost, one full sync now that it is back;
//   - to another directory (made again, renamed or linked into place,
//     another filesystem mounted there): new watches on it and one full
//     sync, which the dispatcher's guard still refuses from an empty
//     source to a target that is not empty;
//   - nowhere, or to a bare mount point: the tree is lost, said once as
//     an error; a full sync is asked for, which the guard refuses, so that
//     the status shows the tree failing and a stop exits 1 naming it.
func (s *supervisor) checkRoots() {
	for _, k := range s.order {
		t := s.trees[k]
		err := t.root.Check()
		switch {
		case err == nil:
			if t.lost {
				t.lost = false
				s.lg.Info().Str("path", t.sync.Source).Msg("the source is back: syncing it whole")
				s.resync([]int{t.id})
			}
		case errors.Is(err, watch.ErrRootReplaced) && !s.stopping:
			if rerr := s.rewatch(k); rerr != nil {
				s.lost(t, rerr)
			}
		default:
			s.lost(t, err)
		}
	}
}

// lost marks a tree whose source is gone, once.
func (s *supervisor) lost(t *treeRun, err error) {
	if t.lost {
		return
	}
	t.lost = true
	s.lg.Error().Err(err).Str("path", t.sync.Source).Msg("the tree's source is lost: nothing is synced from it until it is back")
	s.resync([]int{t.id})
}

// rewatch replaces the tree under key by one watching the directory its
// path leads to now, and asks for one full sync of it. The old tree's
// coalescer hands on what it held.
func (s *supervisor) rewatch(key string) error {
	old := s.trees[key]
	t, err := newTree(old.id, s.cfg, old.sync, s.pace, s.reporter, s.changed, s.lg)
	if err != nil {
		return err
	}
	t.nextResync = old.nextResync
	var jobs []rsync.Job
	for _, k := range s.order {
		tr := s.trees[k]
		if k == key {
			tr = t
		}
		jobs = append(jobs, tr.jobs(s.cfg)...)
	}
	reply := make(chan struct{})
	if !s.ask(rsync.Reconfigure{Jobs: jobs, MaxProcs: s.cfg.MaxProcesses, MaxPending: s.cfg.MaxPending, Full: []int{t.id}, Reply: reply}) {
		t.watcher.Close()
		return errors.New("inosync is stopping")
	}
	<-reply
	s.trees[key] = t
	s.pipes.start(t, s.cfg)
	old.stop()
	s.lg.Warn().Str("path", t.sync.Source).Int("watches", t.watcher.Watches()).
		Msg("the source now leads to another directory: watching it instead, and syncing it whole")
	return nil
}

// watchRoots tells the root watch which trees there are.
func (s *supervisor) watchRoots() {
	if s.roots == nil {
		return
	}
	var paths []string
	for _, k := range s.order {
		paths = append(paths, s.trees[k].sync.Source)
	}
	s.roots.Watch(paths)
}
