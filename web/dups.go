package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/dedup"
)

// dedupParams choose a grouping: the CLI's --preset, --keep, --in, --filter.
type dedupParams struct {
	Preset string   `json:"preset"`
	Keep   []string `json:"keep"`
	In     []string `json:"in"`
	Filter string   `json:"filter"`
}

func (p dedupParams) key() string {
	return strings.Join([]string{p.Preset, strings.Join(p.Keep, ","), strings.Join(p.In, "\x00"), p.Filter}, "\x01")
}

// dupCache keeps the last grouping of a snapshot: the page and the
// action that follows it use the same groups.
type dupCache struct {
	mu    sync.Mutex
	stamp string
	key   string
	dups  *collection.Duplicates
	crit  collection.Criterion
}

var errNoModel = errors.New("the store's model cannot be opened, so its presets are unknown")

// duplicates groups the snapshot's images with p, the library's way
// (collection.FindDuplicates), from the cache when nothing changed.
func (s *Server) duplicates(ctx context.Context, sn *snapshot, p dedupParams) (*collection.Duplicates, collection.Criterion, dedup.Policy, error) {
	policy, err := dedup.ParsePolicy(p.Keep)
	if err != nil {
		return nil, collection.Criterion{}, policy, err
	}
	if sn.manifest == nil {
		return nil, collection.Criterion{}, policy, fmt.Errorf("%w: %v", errNoModel, sn.modelErr)
	}
	// The store's own calibration (embedsearch calibrate) before the
	// manifest, as dedup does; a new calibration regroups.
	crit, err := collection.StoreCriterion(sn.r, sn.manifest, p.Preset)
	if err != nil {
		return nil, crit, policy, err
	}
	s.dups.mu.Lock()
	defer s.dups.mu.Unlock()
	if s.dups.dups != nil && s.dups.stamp == sn.stamp && s.dups.key == p.key() && sameTest(s.dups.crit, crit) {
		return s.dups.dups, s.dups.crit, policy, nil
	}
	allow, err := filters(sn.r, []string{p.Filter}, nil, -1, false)
	if err != nil {
		return nil, crit, policy, err
	}
	var in []string
	if len(p.In) > 0 {
		if _, err := filters(sn.r, nil, p.In, -1, false); err != nil {
			return nil, crit, policy, err
		}
		in = p.In
	}
	d, err := collection.FindDuplicates(ctx, sn.r, collection.DuplicateOptions{Criterion: crit, In: in, Filter: allow, Policy: policy,
		Search: collection.SearchOptions{Searches: sn.r.Len()}})
	if err != nil {
		return nil, crit, policy, err
	}
	s.dups.stamp, s.dups.key, s.dups.dups, s.dups.crit = sn.stamp, p.key(), d, crit
	return d, crit, policy, nil
}

// sameTest: two criteria accept the same pairs.
func sameTest(a, b collection.Criterion) bool {
	return a.Preset == b.Preset && a.Within == b.Within && a.Exact == b.Exact && a.DistanceOnly == b.DistanceOnly &&
		a.Source == b.Source && a.Dedup == b.Dedup
}

func (s *Server) forgetDuplicates() {
	s.dups.mu.Lock()
	s.dups.dups = nil
	s.dups.mu.Unlock()
}

// Member is one image of a group in /api/dedup.
type Member struct {
	Result
	Keep bool `json:"keep"`
	// Check is the test that accepted it with the keeper (exact, pixels,
	// vectors, distance), Score the distance over its neighbourhood's.
	Check string  `json:"check,omitempty"`
	Score float32 `json:"score,omitempty"`
}

// Group is one duplicate group in /api/dedup.
type Group struct {
	Keeper      string   `json:"keeper"`
	KeepWhy     []string `json:"keep_why"`
	MaxDistance float32  `json:"max_distance"`
	Members     []Member `json:"members"`
}

type dedupAnswer struct {
	Model   string  `json:"model"`
	Preset  string  `json:"preset"`
	Policy  string  `json:"policy"`
	Method  string  `json:"method"`
	Images  int     `json:"images"`
	Signed  int     `json:"signed"`
	Groups  []Group `json:"groups"`
	Journal string  `json:"last_journal,omitempty"`
}

func paramsFrom(r *http.Request) dedupParams {
	q := r.URL.Query()
	p := dedupParams{Preset: q.Get("preset"), Keep: q["keep"], In: q["in"], Filter: q.Get("filter")}
	if p.Preset == "" {
		p.Preset = collection.PresetNear
	}
	return p
}

// dedupGroups answers GET /api/dedup?preset=&keep=&in=&filter=.
func (s *Server) dedupGroups(w http.ResponseWriter, r *http.Request) {
	sn, release, err := s.current()
	if err != nil {
		httpError(w, http.StatusConflict, err)
		return
	}
	defer release()
	p := paramsFrom(r)
	d, crit, policy, err := s.duplicates(r.Context(), sn, p)
	if err != nil {
		httpError(w, dedupStatus(err), err)
		return
	}
	ans := dedupAnswer{Model: sn.r.Model().ModelID, Preset: crit.Preset, Policy: policy.String(), Method: d.Method,
		Images: d.Images, Signed: d.Signed, Groups: []Group{}, Journal: lastJournal(s.journals())}
	for gi, g := range d.Groups {
		out := Group{Keeper: g.Members[g.Keep].Path, KeepWhy: d.KeepWhy[gi], MaxDistance: d.MaxDist[gi]}
		for mi, m := range g.Members {
			id, _ := sn.r.Lookup(m.Path)
			mem := Member{Result: result(sn.r, id), Keep: mi == g.Keep}
			mem.Distance = d.Dists[gi][mi]
			if v := d.Verdicts[gi][mi]; !mem.Keep {
				mem.Check, mem.Score = v.Check, v.Score
			}
			out.Members = append(out.Members, mem)
		}
		ans.Groups = append(ans.Groups, out)
	}
	writeJSON(w, ans)
}

func dedupStatus(err error) int {
	switch {
	case errors.Is(err, collection.ErrPreset), errors.Is(err, dedup.ErrConfig), errors.Is(err, dedup.ErrBadPolicy):
		return http.StatusBadRequest
	case errors.Is(err, errNoModel):
		return http.StatusConflict
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	if strings.HasPrefix(err.Error(), "filter") || strings.HasPrefix(err.Error(), "in ") {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
