package web

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// snapshot is one committed state of the store with its Searcher.
type snapshot struct {
	stamp    string
	r        *store.Reader
	s        *collection.Searcher
	manifest *models.Manifest // nil when the store's model cannot be opened
	modelErr error
}

func (sn *snapshot) close() { sn.r.Close() }

// errNoStore: there is no store yet.
var errNoStore = errors.New("there is no store here yet: index a folder first ('embedsearch index DIR', or the status page)")

// stamp identifies the store's committed state: every commit replaces
// the MANIFEST file (a new inode, size or time).
func stamp(dir string) string {
	st, err := os.Stat(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d/%v", st.Size(), st.ModTime().UnixNano(), inode(st))
}

// syncEvery is how often a mirror is brought in step, at most.
const syncEvery = time.Second

// sync brings a mirrored store in step (Config.Mirror), at most once a
// syncEvery; force: now (after an action or undo).
func (s *Server) sync(force bool) error {
	if s.cfg.Mirror == nil {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if !force && time.Since(s.synced) < syncEvery {
		return nil
	}
	if err := s.cfg.Mirror.Sync(context.Background()); err != nil {
		return err
	}
	s.synced = time.Now()
	return nil
}

// current returns the store's last commit, opened, with a release to call
// when done with it; a commit since the last request reopens it.
func (s *Server) current() (*snapshot, func(), error) {
	if err := s.sync(false); err != nil {
		return nil, nil, err
	}
	st := stamp(s.cfg.Store)
	s.snapMu.RLock()
	if s.snap != nil && s.snap.stamp == st && st != "" {
		return s.snap, s.snapMu.RUnlock, nil
	}
	s.snapMu.RUnlock()
	s.snapMu.Lock()
	if s.snap == nil || s.snap.stamp != st || st == "" {
		sn, err := openSnapshot(s.cfg.Store, s.cfg.Mirror)
		if err != nil {
			s.snapMu.Unlock()
			return nil, nil, err
		}
		if s.snap != nil {
			s.snap.close()
		}
		s.snap = sn
	}
	sn := s.snap
	// Downgrade: readers may share it; a newer commit waits for them.
	s.snapMu.Unlock()
	s.snapMu.RLock()
	if s.snap != sn {
		s.snapMu.RUnlock()
		return s.current()
	}
	return sn, s.snapMu.RUnlock, nil
}

func openSnapshot(dir string, mirror *Mirror) (*snapshot, error) {
	st := stamp(dir)
	r, err := store.Open(dir)
	if errors.Is(err, store.ErrNotExist) {
		return nil, errNoStore
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	sn := &snapshot{stamp: st, r: r}
	sn.s = collection.NewSearcher(r, collection.SearchOptions{Searches: 1000}) // a server searches one snapshot many times
	// Damaged rows are found once, here, so that concurrent searches never
	// need to find them (Searcher: scans may not run beside searches).
	sn.s.LeaveOut(search.DamagedRows(sn.s.Matrix(), 0)...)
	var m *models.Model
	if mirror != nil && mirror.Model != nil {
		m, err = mirror.Model()
	} else {
		m, _, err = collection.Model(dir, "")
	}
	if err == nil {
		sn.manifest = m.Manifest
	} else {
		sn.modelErr = err
	}
	return sn, nil
}
