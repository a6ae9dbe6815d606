package weaviatestore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/embedsearch/embedsearch/search"
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

// Hit is one search result: the image's path, its Euclidean distance to
// the query and its vector.
type Hit struct {
	Path string
	Dist float32
	Vec  []float32
}

// searchSlack is how many neighbours beyond k Search asks for, so that
// neighbours tied at the k-th distance are cut by path, as locally.
const searchSlack = 8

// MaxK is the largest k Search takes: Weaviate answers at most 10,000
// objects a query (its QUERY_MAXIMUM_RESULTS default).
const MaxK = 10000 - searchSlack

// Search returns the k images nearest to q among those f matches (nil:
// all) by Weaviate's HNSW index (approximate, like the local graph), ordered
// by distance, then path. Distances are computed again from the vectors
// as the local store computes them (search.Distance: Euclidean, summed in
// float64), not taken from Weaviate's float32 l2-squared, so a result
// reads the same as from a local store.
func (s *Store) Search(ctx context.Context, q []float32, k int, f *Filter) ([]Hit, error) {
	if len(q) != s.binding.Dim {
		return nil, fmt.Errorf("query vector of dimension %d, the store %d", len(q), s.binding.Dim)
	}
	resp, err := s.get(ctx, func() *graphql.GetBuilder {
		g := s.c.GraphQL().Get().WithClassName(s.loc.Class).WithLimit(k+searchSlack).
			WithNearVector(s.c.GraphQL().NearVectorArgBuilder().WithVector(q)).
			WithFields(graphql.Field{Name: "path"}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "vector"}}})
		if w := f.where(); w != nil {
			g = g.WithWhere(w)
		}
		return g
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
		v, err := s.vectorOf(add["vector"])
		if err != nil {
			return nil, fmt.Errorf("weaviate %s: %s: %w", s.loc, str(m["path"]), err)
		}
		hits = append(hits, Hit{Path: str(m["path"]), Dist: float32(search.Distance(q, v)), Vec: v})
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
	return hits[:min(k, len(hits))], nil
}

// Lookup reads the entry and vector of the file at path (found by its
// identity, as Get) straight from the collection; ok is false when it
// holds none.
func (s *Store) Lookup(ctx context.Context, path string) (e store.Entry, vec []float32, ok bool, err error) {
	var objs []*models.Object
	err = retry(ctx, func() error {
		var err error
		objs, err = s.getter().WithID(ObjectID(path)).WithVector().Do(ctx)
		return err
	})
	if httpStatus(err) == http.StatusNotFound {
		return e, nil, false, nil
	}
	if err != nil {
		return e, nil, false, fmt.Errorf("weaviate %s: read %s: %w", s.loc, path, err)
	}
	if len(objs) != 1 {
		return e, nil, false, nil
	}
	p, _ := objs[0].Properties.(map[string]interface{})
	if str(p["kind"]) != kindImage {
		return e, nil, false, nil
	}
	if e, err = entryOf(p); err != nil {
		return e, nil, false, fmt.Errorf("weaviate %s: %w", s.loc, err)
	}
	if len(objs[0].Vector) != s.binding.Dim {
		return e, nil, false, fmt.Errorf("weaviate %s: %s has a vector of dimension %d, the store %d", s.loc, e.Path, len(objs[0].Vector), s.binding.Dim)
	}
	return e, []float32(objs[0].Vector), true, nil
}

// Count is the number of images in the collection (or its tenant).
func (s *Store) Count(ctx context.Context) (int, error) {
	var resp *models.GraphQLResponse
	err := retry(ctx, func() error {
		a := s.c.GraphQL().Aggregate().WithClassName(s.loc.Class).
			WithWhere(filters.Where().WithPath([]string{"kind"}).WithOperator(filters.Equal).WithValueText(kindImage)).
			WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}})
		if s.loc.Tenant != "" {
			a = a.WithTenant(s.loc.Tenant)
		}
		var err error
		resp, err = a.Do(ctx)
		return gqlError(resp, err)
	})
	if err != nil {
		return 0, fmt.Errorf("weaviate %s: count: %w", s.loc, err)
	}
	agg, _ := resp.Data["Aggregate"].(map[string]interface{})
	rows, _ := agg[s.loc.Class].([]interface{})
	if len(rows) != 1 {
		return 0, fmt.Errorf("weaviate %s: count: %d rows", s.loc, len(rows))
	}
	m, _ := rows[0].(map[string]interface{})
	meta, _ := m["meta"].(map[string]interface{})
	return int(num(meta["count"])), nil
}

// vectorOf reads a vector as GraphQL returns it.
func (s *Store) vectorOf(x interface{}) ([]float32, error) {
	raw, _ := x.([]interface{})
	if len(raw) != s.binding.Dim {
		return nil, fmt.Errorf("a vector of dimension %d, the store %d", len(raw), s.binding.Dim)
	}
	v := make([]float32, len(raw))
	for i, x := range raw {
		v[i] = float32(num(x))
	}
	return v, nil
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
		v, err := s.vectorOf(add["vector"])
		if err != nil {
			return nil, fmt.Errorf("weaviate %s: object %v: %w", s.loc, add["id"], err)
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
