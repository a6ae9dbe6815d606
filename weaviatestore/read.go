package weaviatestore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/embedsearch/embedsearch/store"
)

// Each calls fn with every image of the collection (with its vector when
// vectors is set), in object ID order, a page of pageSize at a time.
func (s *Store) Each(ctx context.Context, vectors bool, fn func(e store.Entry, vec []float32) error) error {
	after := ""
	for {
		var objs []*models.Object
		err := retry(ctx, func() error {
			g := s.c.Data().ObjectsGetter().WithClassName(s.loc.Class).WithLimit(pageSize)
			if after != "" {
				g = g.WithAfter(after)
			}
			if vectors {
				g = g.WithVector()
			}
			if s.loc.Tenant != "" {
				g = g.WithTenant(s.loc.Tenant)
			}
			var err error
			objs, err = g.Do(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("weaviate %s: list objects: %w", s.loc, err)
		}
		for _, o := range objs {
			p, _ := o.Properties.(map[string]interface{})
			if str(p["kind"]) != kindImage {
				continue
			}
			e, err := entryOf(p)
			if err != nil {
				return fmt.Errorf("weaviate %s: %w", s.loc, err)
			}
			var vec []float32
			if vectors {
				if vec = o.Vector; len(vec) != s.binding.Dim {
					return fmt.Errorf("weaviate %s: object %s (%s) has a vector of dimension %d, the store %d", s.loc, o.ID, e.Path, len(vec), s.binding.Dim)
				}
			}
			if err := fn(e, vec); err != nil {
				return err
			}
		}
		if len(objs) < pageSize {
			return nil
		}
		after = string(objs[len(objs)-1].ID)
	}
}

// Hit is one search result: the image's path and its Euclidean distance
// to the query.
type Hit struct {
	Path string
	Dist float32
}

// Search returns the k images nearest to q by Weaviate's HNSW index,
// ordered by distance, then path. Weaviate's l2-squared distances are
// reported as Euclidean distances (their square roots), as the local store
// reports them.
func (s *Store) Search(ctx context.Context, q []float32, k int) ([]Hit, error) {
	if len(q) != s.binding.Dim {
		return nil, fmt.Errorf("query vector of dimension %d, the store %d", len(q), s.binding.Dim)
	}
	resp, err := s.get(ctx, func() *graphql.GetBuilder {
		return s.c.GraphQL().Get().WithClassName(s.loc.Class).WithLimit(k).
			WithNearVector(s.c.GraphQL().NearVectorArgBuilder().WithVector(q)).
			WithFields(graphql.Field{Name: "path"}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "distance"}}})
	})
	if err != nil {
		return nil, fmt.Errorf("weaviate %s: search: %w", s.loc, err)
	}
	get, _ := resp.Data["Get"].(map[string]interface{})
	rows, _ := get[s.loc.Class].([]interface{})
	hits := make([]Hit, 0, len(rows))
	for _, r := range rows {
		m, _ := r.(map[string]interface{})
		add, _ := m["_additional"].(map[string]interface{})
		d := num(add["distance"])
		hits = append(hits, Hit{Path: str(m["path"]), Dist: float32(math.Sqrt(max(d, 0)))})
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		if a.Dist != b.Dist {
			if a.Dist < b.Dist {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Path, b.Path)
	})
	return hits, nil
}

// Mirror brings the local store under w (bound to the same model) in
// step with the collection: the same roots, last run, entries and vectors.
// An empty mirror is filled with every object and its vector; after that
// only the catalogue is read, and only the vectors of entries that
// changed are fetched. Readers (status, query, dedup) then read the
// mirror as they read any local store. The caller commits and closes w.
func (s *Store) Mirror(ctx context.Context, w *store.Writer) error {
	if w.Model() != s.binding {
		return fmt.Errorf("%w: the mirror %s holds %s", store.ErrModelMismatch, w.Dir(), w.Model().Mismatch(s.binding))
	}
	seen := map[string]bool{}
	var changed []store.Entry
	full := w.Len() == 0
	err := s.Each(ctx, full, func(e store.Entry, vec []float32) error {
		seen[e.Path] = true
		if old, ok := w.Get(e.Path); ok && same(old, e) {
			return nil
		}
		if full {
			return w.Put(e, vec)
		}
		changed = append(changed, e)
		return nil
	})
	if err != nil {
		return err
	}
	for len(changed) > 0 {
		n := min(vectorBatch, len(changed))
		ids := make([]string, n)
		for i, e := range changed[:n] {
			ids[i] = ObjectID(e.Path)
		}
		vecs, err := s.vectors(ctx, ids)
		if err != nil {
			return err
		}
		for i, e := range changed[:n] {
			v, ok := vecs[ids[i]]
			if !ok {
				continue // deleted meanwhile: the next mirror drops it
			}
			if err := w.Put(e, v); err != nil {
				return err
			}
		}
		changed = changed[n:]
	}
	var gone []string
	w.Walk(func(p string) bool {
		if !seen[p] {
			gone = append(gone, p)
		}
		return true
	})
	for _, p := range gone {
		w.Delete(p)
	}
	w.RemoveRoots(w.Roots()...)
	w.AddRoots(s.roots...)
	w.SetRunStats(s.runAt, s.failed)
	return nil
}

// vectorBatch is how many vectors one request of Mirror fetches.
const vectorBatch = 100

// vectors fetches the vectors of the objects ids, by ID.
func (s *Store) vectors(ctx context.Context, ids []string) (map[string][]float32, error) {
	resp, err := s.get(ctx, func() *graphql.GetBuilder {
		return s.c.GraphQL().Get().WithClassName(s.loc.Class).WithLimit(len(ids)).
			WithWhere(filters.Where().WithPath([]string{"id"}).WithOperator(filters.ContainsAny).WithValueText(ids...)).
			WithFields(graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}, {Name: "vector"}}})
	})
	if err != nil {
		return nil, fmt.Errorf("weaviate %s: fetch vectors: %w", s.loc, err)
	}
	out := map[string][]float32{}
	get, _ := resp.Data["Get"].(map[string]interface{})
	rows, _ := get[s.loc.Class].([]interface{})
	for _, r := range rows {
		m, _ := r.(map[string]interface{})
		add, _ := m["_additional"].(map[string]interface{})
		raw, _ := add["vector"].([]interface{})
		if len(raw) != s.binding.Dim {
			return nil, fmt.Errorf("weaviate %s: object %v has a vector of dimension %d, the store %d", s.loc, add["id"], len(raw), s.binding.Dim)
		}
		v := make([]float32, len(raw))
		for i, x := range raw {
			v[i] = float32(num(x))
		}
		out[str(add["id"])] = v
	}
	return out, nil
}

// gqlError is err, or the errors a GraphQL answer carries.
// get runs the GraphQL Get that build makes, with the store's consistency
// level (GraphQL has the argument for replicated collections only) and
// tenant, retried as every request is.
func (s *Store) get(ctx context.Context, build func() *graphql.GetBuilder) (*models.GraphQLResponse, error) {
	var resp *models.GraphQLResponse
	err := retry(ctx, func() error {
		g := build()
		if s.factor > 1 {
			g = g.WithConsistencyLevel(s.loc.Consistency)
		}
		if s.loc.Tenant != "" {
			g = g.WithTenant(s.loc.Tenant)
		}
		var err error
		resp, err = g.Do(ctx)
		return gqlError(resp, err)
	})
	return resp, err
}

func gqlError(resp *models.GraphQLResponse, err error) error {
	if err != nil || resp == nil || len(resp.Errors) == 0 {
		return err
	}
	var msgs []string
	for _, e := range resp.Errors {
		msgs = append(msgs, e.Message)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// same reports whether two entries record the same file the same way.
func same(a, b store.Entry) bool {
	return a.Path == b.Path && a.Size == b.Size && a.ModTime.Equal(b.ModTime) && a.SHA256 == b.SHA256 &&
		a.Width == b.Width && a.Height == b.Height && a.Format == b.Format && a.Taken.Equal(b.Taken) &&
		a.Make == b.Make && a.Model == b.Model && slices.Equal(a.Signature, b.Signature) &&
		(a.GPS == nil) == (b.GPS == nil) && (a.GPS == nil || *a.GPS == *b.GPS)
}
