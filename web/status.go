package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/embedsearch/embedsearch/collection"

	"github.com/embedsearch/embedsearch/index"
)

type statusAnswer struct {
	Store       string     `json:"store"`
	Exists      bool       `json:"exists"`
	Model       string     `json:"model,omitempty"`
	Dim         int        `json:"dim,omitempty"`
	Images      int        `json:"images"`
	Roots       []string   `json:"roots"`
	LastIndexed *time.Time `json:"last_indexed"`
	Failed      int        `json:"failed"`
	Generation  uint64     `json:"generation"`
	Search      string     `json:"search"` // exact or hnsw
	SearchNote  string     `json:"search_note,omitempty"`
	Text        bool       `json:"text"`      // text queries work
	CanIndex    bool       `json:"can_index"` // the index button works
	Presets     any        `json:"presets,omitempty"`
	Journal     string     `json:"last_journal,omitempty"`
	Index       indexState `json:"index"`
}

// status answers GET /api/status.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ans := statusAnswer{Store: s.storeName(), Roots: []string{}, Text: s.cfg.Embed != nil && s.cfg.Embed.HasText(),
		CanIndex: s.cfg.Index != nil, Journal: lastJournal(s.journals()), Index: s.idx.state()}
	sn, release, err := s.current()
	switch {
	case errors.Is(err, errNoStore):
	case err != nil:
		httpError(w, http.StatusInternalServerError, err)
		return
	default:
		defer release()
		b := sn.r.Model()
		ans.Exists, ans.Model, ans.Dim, ans.Images = true, b.ModelID, b.Dim, sn.r.Len()
		ans.Roots = sn.r.Roots()
		if t := sn.r.LastIndexed(); !t.IsZero() {
			ans.LastIndexed = &t
		}
		ans.Failed, ans.Generation = sn.r.Failed(), sn.r.Generation()
		ans.Search, ans.SearchNote = sn.s.Method(), sn.s.Note
		if sn.manifest != nil {
			// What dedup groups by: the store's calibration, else the manifest's.
			t, _, _ := collection.StorePresets(sn.r, sn.manifest)
			ans.Presets = t
		}
	}
	writeJSON(w, ans)
}

// indexState is what an index run of this server is doing.
type indexState struct {
	Running bool   `json:"running"`
	Phase   string `json:"phase,omitempty"`
	Done    int    `json:"done"`
	Todo    int    `json:"todo"`
	Scanned int    `json:"scanned"`
	Summary string `json:"summary,omitempty"`
	Error   string `json:"error,omitempty"`
	Seq     int    `json:"seq"`
}

type indexRun struct {
	mu      sync.Mutex
	st      indexState
	cancel  context.CancelFunc
	done    chan struct{}
	changed chan struct{} // closed and replaced at every change
}

func (x *indexRun) state() indexState {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.st
}

// update changes the state and wakes the event streams.
func (x *indexRun) update(f func(*indexState)) {
	x.mu.Lock()
	f(&x.st)
	x.st.Seq++
	if x.changed != nil {
		close(x.changed)
	}
	x.changed = make(chan struct{})
	x.mu.Unlock()
}

func (x *indexRun) wait() (indexState, <-chan struct{}) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.changed == nil {
		x.changed = make(chan struct{})
	}
	return x.st, x.changed
}

func (x *indexRun) cancelAndWait() {
	x.mu.Lock()
	cancel, done := x.cancel, x.done
	x.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// indexStart answers POST /api/index: an index run of the store's folders
// in the background (progress: /api/index/events).
func (s *Server) indexStart(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Index == nil {
		httpError(w, http.StatusNotImplemented, errors.New("this server cannot index (run 'embedsearch index')"))
		return
	}
	if !s.change.TryLock() {
		httpError(w, http.StatusConflict, ErrBusy)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.idx.mu.Lock()
	s.idx.cancel, s.idx.done = cancel, done
	s.idx.mu.Unlock()
	s.idx.update(func(st *indexState) { *st = indexState{Running: true, Phase: index.PhaseScan, Seq: st.Seq} })
	go func() {
		defer close(done)
		defer s.change.Unlock()
		var last time.Time
		stats, err := s.cfg.Index(ctx, func(p index.Progress) {
			if time.Since(last) < 100*time.Millisecond && p.Done != p.Todo {
				return
			}
			last = time.Now()
			s.idx.update(func(st *indexState) { st.Phase, st.Done, st.Todo, st.Scanned = p.Phase, p.Done, p.Todo, p.Scanned })
		})
		s.forgetDuplicates()
		summary := fmt.Sprintf("scanned %d, new %d, changed %d, moved %d, removed %d, failed %d in %s",
			stats.Scanned, stats.New, stats.Changed, stats.Moved, stats.Removed, stats.Failed, stats.Elapsed.Round(10*time.Millisecond))
		s.log("index: %s", summary)
		s.idx.update(func(st *indexState) {
			st.Running, st.Summary, st.Error = false, summary, ""
			if err != nil {
				st.Error = err.Error()
			}
		})
		s.idx.mu.Lock()
		s.idx.cancel = nil
		s.idx.mu.Unlock()
		cancel()
	}()
	writeJSON(w, s.idx.state())
}

// indexCancel answers POST /api/index/cancel.
func (s *Server) indexCancel(w http.ResponseWriter, r *http.Request) {
	s.idx.mu.Lock()
	cancel := s.idx.cancel
	s.idx.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	writeJSON(w, s.idx.state())
}

// indexEvents streams the index run's state as server-sent events (one
// "data: {json}" per change) until the run ends or the client leaves.
func (s *Server) indexEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		httpError(w, http.StatusInternalServerError, errors.New("streaming unsupported"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	seq := -1
	for {
		st, changed := s.idx.wait()
		if st.Seq != seq {
			seq = st.Seq
			b, _ := json.Marshal(st)
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
			if !st.Running {
				return
			}
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-time.After(15 * time.Second):
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		}
	}
}
