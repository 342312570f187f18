package main

import (
	"errors"
	"time"

	"github.com/inosync/inosync/rsync"
	"github.com/inosync/inosync/watch"
)

// checkRoots follows each tree's path after something changed that may
// make it lead elsewhere (see watch.RootWatch):
//   - to the same directory: nothing to do; but a tree whose source was
//     lost, or whose watcher saw its root go (a directory made again may
//     have the old inode), is watched anew and synced whole;
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
		case s.stopping:
			if err != nil {
				s.lost(t, err)
			}
		case err == nil && !t.lost && !t.watcher.RootLost():
		case err == nil || errors.Is(err, watch.ErrRootReplaced):
			if time.Now().Before(t.rewatchAt) {
				break // the last try failed: wait out its backoff
			}
			if rerr := s.rewatch(k); rerr != nil {
				t.rewatchWait = min(max(2*t.rewatchWait, rootCheckInterval), rewatchMaxWait)
				t.rewatchAt = time.Now().Add(t.rewatchWait)
				if !t.lost {
					t.lost = true
					s.lg.Error().Err(rerr).Str("path", t.sync.Source).Dur("retry_in", t.rewatchWait).
						Msg("the source leads to another directory, which cannot be watched: nothing is synced from it until it can")
					s.resync([]int{t.id})
				}
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

// rewatchMaxWait bounds the backoff between tries to watch a source that
// could not be watched.
const rewatchMaxWait = 5 * time.Minute

// rewatch replaces the tree under key by one watching the directory its
// path leads to now, and asks for one full sync of it. The old tree's
// pipeline is stopped first (its coalescer hands on what it held): its
// watches are on the old directory, and they would count against the
// watch limit while the new one is walked.
func (s *supervisor) rewatch(key string) error {
	old := s.trees[key]
	if old.stop != nil {
		old.stop()
		select { // its inotify instance and watches are let go as Run returns
		case <-old.watchEnded:
		case <-time.After(5 * time.Second):
		}
	}
	old.watcher.Close()
	t, err := newTree(old.id, s.cfg, old.sync, s.watchers, s.reporter, s.changed, s.lg)
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
