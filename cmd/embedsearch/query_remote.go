package main

import (
	"context"
	"fmt"
	"io"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/store"
	"github.com/embedsearch/embedsearch/weaviatestore"
)

// serverSearch: query on a Weaviate collection uses Weaviate's search
// where it can (off only in the test that times it against the mirror).
var serverSearch = true

// serverQuery answers query on a Weaviate collection with Weaviate's own
// search, filtered by a where filter, without the local mirror. done is
// false when that would not answer as the local store does: --exact (the
// server's index is approximate), -k above weaviatestore.MaxK, or a
// --filter or --in without an exact where filter (weaviatestore.Filter);
// the caller then answers from the mirror, with the same output.
func serverQuery(ctx context.Context, o queryOptions, args []string, stdin io.Reader, stdout, stderr io.Writer) (done bool, err error) {
	var f weaviatestore.Filter
	if o.Exact || o.K > weaviatestore.MaxK {
		return false, nil
	}
	if o.Filter != "" {
		// A filter that does not parse is reported by the mirror's path.
		q, err := store.ParseFilter(o.Filter)
		if err != nil || f.Match(q) != nil {
			return false, nil
		}
	}
	if f.Under(o.In) != nil {
		return false, nil
	}
	b, err := openRemote(ctx, o.Store, weaviatestore.OpenSearcher)
	if err != nil {
		return true, err
	}
	defer b.Close()
	if o.Model != "" {
		// As locally: --model must be the store's even when no query
		// needs it.
		if _, err := collection.BackendModel(b, o.Model); err != nil {
			return true, err
		}
	}
	rows := &remoteRows{ctx: ctx, s: b}
	qe := &queryEmbedder{ctx: ctx, remote: b, spec: o.Model, engine: o.Engine, stderr: stderr}
	defer qe.Close()
	inputs, err := resolveQueries(ctx, o, args, stdin, rows, qe)
	if err == nil {
		err = rows.err
	}
	if err != nil {
		return true, err
	}
	if o.Mean && len(inputs) > 1 {
		inputs = []queryInput{meanQuery(inputs, b.Binding().Dim)}
	}
	for _, in := range inputs {
		if in.selfID >= 0 && (o.ExcludeSelf || in.selfDamaged) {
			f.Except(rows.entries[in.selfID].Path)
		}
	}
	answers := make([]queryAnswer, len(inputs))
	counted := false // the collection was found to hold images
	for i, in := range inputs {
		hits, err := b.Search(ctx, in.vector, o.K, &f)
		if err != nil {
			return true, err
		}
		if len(hits) == 0 && !counted {
			n, err := b.Count(ctx)
			if err != nil {
				return true, err
			}
			if n == 0 {
				return true, fmt.Errorf("store %s holds no images yet: run 'embedsearch index DIR' first", b.Name())
			}
			counted = true
		}
		answers[i] = queryAnswer{Query: in.label, Results: []queryResult{}}
		for rank, h := range hits {
			if o.MaxDistance > 0 && float64(h.Dist) > o.MaxDistance {
				break
			}
			answers[i].Results = append(answers[i].Results, queryResult{Rank: rank + 1, Path: h.Path, Distance: h.Dist})
		}
	}
	return true, writeAnswers(stdout, o, b.Binding().ModelID, answers)
}

// remoteRows is a Weaviate collection as resolveQueries reads it: each
// file it looks up (found by identity, read with its vector) gets the
// next row number. The first error is kept in err.
type remoteRows struct {
	ctx     context.Context
	s       *weaviatestore.Store
	entries []store.Entry
	vecs    [][]float32
	err     error
}

func (r *remoteRows) Dim() int { return r.s.Binding().Dim }

func (r *remoteRows) Lookup(path string) (int, bool) {
	if r.err != nil {
		return -1, false
	}
	e, v, ok, err := r.s.Lookup(r.ctx, path)
	if err != nil || !ok {
		r.err = err
		return -1, false
	}
	r.entries, r.vecs = append(r.entries, e), append(r.vecs, v)
	return len(r.entries) - 1, true
}

func (r *remoteRows) Entry(id int) store.Entry { return r.entries[id] }

func (r *remoteRows) Vector(id int) []float32 { return r.vecs[id] }
