package web

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/embedsearch/embedsearch/collection"
)

// lastJournal is the newest journal in the folder dir ("" when none).
func lastJournal(dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "dedup-*.jsonl"))
	if len(m) == 0 {
		return ""
	}
	slices.Sort(m)
	return filepath.Base(m[len(m)-1])
}

// storeName names the store: its folder, or a mirrored store's own name.
func (s *Server) storeName() string {
	if s.cfg.Mirror != nil {
		return s.cfg.Mirror.Name
	}
	return s.cfg.Store
}

// journals is the folder of the store's journals.
func (s *Server) journals() string {
	if s.cfg.Mirror != nil {
		return s.cfg.Mirror.Journals
	}
	return filepath.Join(s.cfg.Store, "journals")
}

// undo answers POST /api/undo {"journal": NAME}: a journal of this
// store's journals folder by name ("": the newest), undone by the library
// (collection.Undo), store entries put back.
func (s *Server) undo(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Journal string `json:"journal"`
	}
	if err := readJSON(w, r, &req); err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	if !s.change.TryLock() {
		httpError(w, http.StatusConflict, ErrBusy)
		return
	}
	defer s.change.Unlock()
	name := req.Journal
	if name == "" {
		name = lastJournal(s.journals())
	}
	if name == "" || name != filepath.Base(name) || strings.ContainsRune(name, 0) || !strings.HasPrefix(name, "dedup-") || filepath.Ext(name) != ".jsonl" {
		httpError(w, http.StatusBadRequest, fmt.Errorf("journal %q: want the name of a journal in the store's journals folder", name))
		return
	}
	journal := filepath.Join(s.journals(), name)
	var u collection.UndoResult
	var err error
	if m := s.cfg.Mirror; m != nil {
		u, err = m.Undo(r.Context(), journal)
		defer func() {
			if err := s.sync(true); err != nil {
				s.log("after undo: %v", err)
			}
		}()
	} else {
		u, err = collection.Undo(r.Context(), journal, s.cfg.Store, s.cfg.Store)
	}
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, os.ErrNotExist) {
			code = http.StatusNotFound
		}
		httpError(w, code, err)
		return
	}
	s.forgetDuplicates()
	type line struct {
		Path   string `json:"path"`
		Op     string `json:"op"`
		Status string `json:"status"` // restored, already, refused
		Reason string `json:"reason,omitempty"`
	}
	out := struct {
		Journal  string `json:"journal"`
		Restored int    `json:"restored"`
		Refused  int    `json:"refused"`
		Results  []line `json:"results"`
		Error    string `json:"error,omitempty"`
	}{Journal: name, Results: []line{}}
	for _, u := range u.Results {
		l := line{Path: u.Entry.Src, Op: string(u.Entry.Op)}
		switch {
		case u.Restored:
			l.Status = "restored"
			out.Restored++
		case u.Already:
			l.Status = "already"
		default:
			l.Status, l.Reason = "refused", fmt.Sprint(u.Refused)
			out.Refused++
		}
		out.Results = append(out.Results, l)
	}
	if e := errors.Join(u.UndoErr, u.StoreErr); e != nil {
		out.Error = e.Error()
	}
	s.log("undo %s: %d restored, %d refused", name, out.Restored, out.Refused)
	writeJSON(w, out)
}

// notDup answers POST /api/notdup {"paths": [...], "unmark": false}: the
// images (all in the store) are marked as not duplicates of each other,
// every pair, by content (collection.MarkNotDuplicates).
func (s *Server) notDup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Paths  []string `json:"paths"`
		Unmark bool     `json:"unmark"`
	}
	if err := readJSON(w, r, &req); err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	if len(req.Paths) < 2 {
		httpError(w, http.StatusBadRequest, errors.New("give two images or more"))
		return
	}
	sn, release, err := s.current()
	if err != nil {
		httpError(w, http.StatusConflict, err)
		return
	}
	var hashes []string
	for _, p := range req.Paths {
		id, ok := sn.r.Lookup(p)
		if !ok {
			release()
			httpError(w, http.StatusNotFound, fmt.Errorf("%w: %q", errNotInStore, p))
			return
		}
		hashes = append(hashes, sn.r.Entry(id).SHA256)
	}
	release()
	var n int
	if req.Unmark {
		n, err = collection.UnmarkNotDuplicates(r.Context(), s.cfg.Store, hashes...)
	} else {
		n, err = collection.MarkNotDuplicates(r.Context(), s.cfg.Store, hashes...)
	}
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, collection.ErrNoContentHash) {
			code = http.StatusConflict
		}
		httpError(w, code, err)
		return
	}
	s.forgetDuplicates()
	writeJSON(w, map[string]int{"pairs": n})
}
