package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/internal/inputfile"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// queryInput is one query after resolution to a vector.
type queryInput struct {
	label       string
	vector      []float32
	selfID      int  // id of the query file in the store, or -1
	selfDamaged bool // its stored vector is damaged (the file was embedded instead)
}

// queryStore is what resolving queries reads of the store (a
// *store.Reader, or remoteRows): its dimension, and the stored entry and
// vector of an indexed query file, by row.
type queryStore interface {
	Dim() int
	Lookup(path string) (int, bool)
	Entry(id int) store.Entry
	Vector(id int) []float32
}

// resolveQueries turns every argument (and --vector) into a normalised vector.
func resolveQueries(ctx context.Context, o queryOptions, args []string, stdin io.Reader, r queryStore, qe *queryEmbedder) ([]queryInput, error) {
	var inputs []queryInput
	if f := o.Vector; f != "" {
		v, err := readVectorFile(f, r.Dim())
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, queryInput{label: f, vector: v, selfID: -1})
	}
	stdinUsed := false
	for _, arg := range args {
		switch {
		case arg == "-":
			if stdinUsed {
				return nil, usagef("'-' (image on stdin) can be given only once")
			}
			stdinUsed = true
			data, err := io.ReadAll(io.LimitReader(stdin, maxStdinImage+1))
			if err != nil {
				return nil, fmt.Errorf("read stdin: %w", err)
			}
			if len(data) > maxStdinImage {
				return nil, fmt.Errorf("image on stdin is larger than %d MiB", maxStdinImage>>20)
			}
			v, err := qe.image(data, "stdin")
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, queryInput{label: "-", vector: v, selfID: -1})
		case isFile(arg):
			in, err := fileQuery(ctx, r, qe, arg)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, in)
		case looksLikePath(arg):
			if st, err := os.Stat(arg); err == nil {
				return nil, fmt.Errorf("query image %s: %w (%s)", arg, inputfile.ErrNotRegular, inputfile.Kind(st.Mode()))
			}
			return nil, fmt.Errorf("query image %s: no such file", arg)
		default:
			v, err := qe.text(arg)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, queryInput{label: arg, vector: v, selfID: -1})
		}
	}
	return inputs, nil
}

const maxStdinImage = 256 << 20

// fileQuery reuses the stored vector of an indexed file whose size and mtime
// are unchanged, and embeds the file otherwise (also when the stored vector
// is damaged: the row is then left out of the results).
func fileQuery(ctx context.Context, r queryStore, qe *queryEmbedder, arg string) (queryInput, error) {
	abs, err := filepath.Abs(arg)
	if err != nil {
		return queryInput{}, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return queryInput{}, err
	}
	damaged := false
	if id, ok := r.Lookup(abs); ok {
		e := r.Entry(id)
		damaged = search.Damaged(r.Vector(id))
		if e.Size == st.Size() && e.ModTime.Equal(st.ModTime()) && !damaged {
			v := append([]float32(nil), r.Vector(id)...)
			return queryInput{label: arg, vector: v, selfID: id}, nil
		}
	}
	if err := qe.open(); err != nil {
		return queryInput{}, err
	}
	data, _, err := inputfile.ReadAll(ctx, abs, inputfile.Options{FollowLinks: true, MaxSize: qe.eng.Encoder.MaxFileSize()})
	if err != nil {
		return queryInput{}, fmt.Errorf("query image: %w", err)
	}
	v, err := qe.image(data, arg)
	if err != nil {
		return queryInput{}, err
	}
	self := -1
	if id, ok := r.Lookup(abs); ok {
		self = id
	}
	return queryInput{label: arg, vector: v, selfID: self, selfDamaged: damaged}, nil
}

// isFile: a query argument naming anything but a directory is a file query
// (a FIFO or device is then refused by the opener, never waited on).
func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// looksLikePath tells a mistyped file name from a text query: text queries
// are words, paths have separators or an image extension.
func looksLikePath(s string) bool {
	if strings.ContainsRune(s, os.PathSeparator) && !strings.ContainsRune(s, ' ') {
		return true
	}
	if preprocess.IsImageName(s) || preprocess.UnsupportedImageName(s) != "" {
		return !strings.ContainsRune(s, ' ')
	}
	return false
}

func readVectorFile(path string, dim int) ([]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v []float32
	if err := json.Unmarshal(data, &v); err != nil {
		var obj struct {
			Vector []float32 `json:"vector"`
		}
		if err2 := json.Unmarshal(data, &obj); err2 != nil || obj.Vector == nil {
			return nil, fmt.Errorf("--vector %s: want a JSON array of numbers or {\"vector\": [...]}: %v", path, err)
		}
		v = obj.Vector
	}
	if len(v) != dim {
		return nil, fmt.Errorf("--vector %s has %d numbers; this store's model has dim %d", path, len(v), dim)
	}
	if search.Normalize(v) == 0 {
		return nil, fmt.Errorf("--vector %s is all zeros", path)
	}
	return v, nil
}

func meanQuery(inputs []queryInput, dim int) queryInput {
	mean := make([]float32, dim)
	labels := make([]string, len(inputs))
	for i, in := range inputs {
		labels[i] = in.label
		for j, x := range in.vector {
			mean[j] += x
		}
	}
	search.Normalize(mean)
	return queryInput{label: "mean(" + strings.Join(labels, ", ") + ")", vector: mean, selfID: -1}
}

// queryAllow combines --filter, --in and --exclude-self
// into one predicate applied before ranking.
func queryAllow(o queryOptions, r *store.Reader, inputs []queryInput) (func(int) bool, error) {
	var preds []func(int) bool
	if q := o.Filter; q != "" {
		f, err := storeFilter(r, q)
		if err != nil {
			return nil, err
		}
		preds = append(preds, f)
	}
	if len(o.In) > 0 {
		preds = append(preds, func(id int) bool { return fspath.WithinAny(o.In, r.Path(id)) })
	}
	if o.ExcludeSelf {
		self := map[int]bool{}
		for _, in := range inputs {
			if in.selfID >= 0 {
				self[in.selfID] = true
			}
		}
		preds = append(preds, func(id int) bool { return !self[id] })
	}
	return collection.AllOf(preds...), nil
}
