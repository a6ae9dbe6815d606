package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/store"
)

// applyRequest is /api/apply's body: the grouping the page showed (its
// parameters), the action, and per group the keeper and the members to
// act on, as the person left them. Only members of the library's own
// groups can be acted on; anything else is refused.
type applyRequest struct {
	dedupParams
	// Op: move, trash, hardlink, symlink or delete.
	Op     string `json:"op"`
	MoveTo string `json:"move_to"`
	// Confirm must be "delete" for delete.
	Confirm string `json:"confirm"`
	// Yes lets links replace files whose bytes differ from the keeper's
	// (dedup --link --yes).
	Yes    bool `json:"yes"`
	DryRun bool `json:"dry_run"`
	Groups []struct {
		Keeper string   `json:"keeper"`
		Act    []string `json:"act"`
	} `json:"groups"`
}

// ActionResult is one file's outcome in /api/apply.
type ActionResult struct {
	Path   string `json:"path"`
	Op     string `json:"op"`
	Status string `json:"status"` // planned, done, refused, not-run
	Dest   string `json:"dest,omitempty"`
	Reason string `json:"reason,omitempty"`
}

type applyAnswer struct {
	Journal string         `json:"journal,omitempty"`
	DryRun  bool           `json:"dry_run,omitempty"`
	Done    int            `json:"done"`
	Refused int            `json:"refused"`
	Results []ActionResult `json:"results"`
	Error   string         `json:"error,omitempty"`
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("want a JSON body: %w", err)
	}
	return nil
}

// apply answers POST /api/apply: the library's dedup plan (its safety
// rules: only the store's folders, files unchanged since indexed, no link
// followed out), journalled by Collection.Act, on the groups as edited.
func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	var req applyRequest
	if err := readJSON(w, r, &req); err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	if req.Preset == "" {
		req.Preset = collection.PresetNear
	}
	op := dedup.Op(req.Op)
	switch op {
	case dedup.OpMove, dedup.OpTrash, dedup.OpHardLink, dedup.OpSymlink:
	case dedup.OpDelete:
		if req.Confirm != "delete" && !req.DryRun {
			httpError(w, http.StatusBadRequest, errors.New(`delete removes files permanently: type "delete" to confirm (or use trash)`))
			return
		}
	default:
		httpError(w, http.StatusBadRequest, fmt.Errorf("op %q: want move, trash, hardlink, symlink or delete", req.Op))
		return
	}
	if op == dedup.OpMove && !filepath.IsAbs(req.MoveTo) {
		httpError(w, http.StatusBadRequest, fmt.Errorf("move_to %q: want an absolute folder", req.MoveTo))
		return
	}
	if !req.DryRun {
		if !s.change.TryLock() {
			httpError(w, http.StatusConflict, ErrBusy)
			return
		}
		defer s.change.Unlock()
	}
	sn, release, err := s.current()
	if err != nil {
		httpError(w, http.StatusConflict, err)
		return
	}
	defer release()
	d, _, _, err := s.duplicates(r.Context(), sn, req.dedupParams)
	if err != nil {
		httpError(w, dedupStatus(err), err)
		return
	}
	groups, err := chosenGroups(d.Groups, req)
	if err != nil {
		httpError(w, http.StatusConflict, err)
		return
	}
	var roots []string
	for _, root := range sn.r.Roots() {
		if _, err := os.Stat(root); err == nil {
			roots = append(roots, root)
		}
	}
	plan, err := dedup.NewPlan(groups, dedup.Config{Op: op, Roots: roots, MoveTo: req.MoveTo, Trash: s.cfg.Trash, LinkDiffering: req.Yes})
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	ans := applyAnswer{DryRun: req.DryRun, Results: []ActionResult{}}
	if req.DryRun {
		for _, a := range plan.Actions {
			res := ActionResult{Path: a.File.Path, Op: string(a.Op), Status: "planned", Dest: a.Dest}
			if a.Refused != nil {
				res.Status, res.Reason = "refused", a.Refused.Error()
				ans.Refused++
			}
			ans.Results = append(ans.Results, res)
		}
		writeJSON(w, ans)
		return
	}
	res, err := s.act(r.Context(), sn.r, plan)
	if err != nil {
		httpError(w, actStatus(err), err)
		return
	}
	s.forgetDuplicates()
	if err := s.sync(true); err != nil {
		s.log("after %s: %v", op, err)
	}
	ans.Journal = filepath.Base(res.Journal)
	for _, r := range res.Results {
		ar := ActionResult{Path: r.Action.File.Path, Op: string(r.Action.Op), Dest: r.Dest, Status: "not-run"}
		switch {
		case r.Done:
			ar.Status = "done"
			ans.Done++
		case r.Refused != nil:
			ar.Status, ar.Reason = "refused", r.Refused.Error()
			ans.Refused++
		}
		ans.Results = append(ans.Results, ar)
	}
	if e := errors.Join(res.ApplyErr, res.StoreErr); e != nil {
		ans.Error = e.Error()
	}
	s.log("%s: %d done, %d refused; journal %s", op, ans.Done, ans.Refused, res.Journal)
	writeJSON(w, ans)
}

// act runs the plan under the store's writer lock (Collection.Act checks
// that the store is still the snapshot the groups came from); a mirrored
// store is opened by Mirror.Open, with the sync held so that the mirror
// stays the snapshot r while it is checked.
func (s *Server) act(ctx context.Context, r *store.Reader, plan *dedup.Plan) (collection.ActResult, error) {
	var col *collection.Collection
	var err error
	if m := s.cfg.Mirror; m != nil {
		s.syncMu.Lock()
		col, err = m.Open(ctx, r)
		s.syncMu.Unlock()
	} else {
		col, err = collection.Open(ctx, s.cfg.Store, collection.Options{})
	}
	if err != nil {
		return collection.ActResult{}, err
	}
	res, err := col.Act(ctx, r, plan, "")
	if cerr := col.Close(context.WithoutCancel(ctx)); err == nil && res.StoreErr == nil {
		res.StoreErr = cerr
	}
	return res, err
}

func actStatus(err error) int {
	if errors.Is(err, store.ErrLocked) || errors.Is(err, collection.ErrStoreChanged) {
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// chosenGroups turns the person's choices into plan groups: each keeper
// and act path must be members of one library group (never another file).
func chosenGroups(lib []dedup.Group, req applyRequest) ([]dedup.Group, error) {
	where := map[string]int{}
	for gi, g := range lib {
		for _, m := range g.Members {
			where[m.Path] = gi
		}
	}
	member := func(gi int, p string) dedup.File {
		i := slices.IndexFunc(lib[gi].Members, func(f dedup.File) bool { return f.Path == p })
		return lib[gi].Members[i]
	}
	var out []dedup.Group
	for _, g := range req.Groups {
		gi, ok := where[g.Keeper]
		if !ok {
			return nil, fmt.Errorf("%s is in no duplicate group now (the store changed): reload the page", g.Keeper)
		}
		pg := dedup.Group{Members: []dedup.File{member(gi, g.Keeper)}}
		for _, p := range g.Act {
			if gj, ok := where[p]; !ok || gj != gi || p == g.Keeper {
				return nil, fmt.Errorf("%s is not a duplicate of %s in the current groups: reload the page", p, g.Keeper)
			}
			if !slices.ContainsFunc(pg.Members, func(f dedup.File) bool { return f.Path == p }) {
				pg.Members = append(pg.Members, member(gi, p))
			}
		}
		if len(pg.Members) > 1 {
			out = append(out, pg)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("nothing to act on: choose at least one duplicate")
	}
	return out, nil
}
