package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/models"
)

// queryEmbedder embeds query images and texts with the store's model. It
// opens the model and onnxruntime only when a query needs them: a query by an
// indexed, unchanged file reuses its stored vector and never loads a model.
type queryEmbedder struct {
	ctx     context.Context
	dir     string             // the store's
	remote  collection.Backend // or the remote store's (then dir is "")
	spec    string             // --model ("" for the store's own)
	engine  engineOptions
	stderr  io.Writer
	eng     *engine
	textEnc *infer.TextEncoder
	model   *models.Model
}

func (q *queryEmbedder) open() error {
	if q.eng != nil {
		return nil
	}
	var m *models.Model
	var err error
	if q.remote != nil {
		m, err = collection.BackendModel(q.remote, q.spec)
	} else {
		m, _, err = collection.Model(q.dir, q.spec)
	}
	if err != nil {
		return err
	}
	eng, err := openEngineFor(q.ctx, m, q.engine, q.stderr)
	if err != nil {
		return err
	}
	q.eng, q.model = eng, m
	return nil
}

func (q *queryEmbedder) image(data []byte, label string) ([]float32, error) {
	if err := q.open(); err != nil {
		return nil, err
	}
	v, _, err := q.eng.Encoder.EmbedBytes(data)
	if err != nil {
		return nil, fmt.Errorf("query image %s: %w", label, err)
	}
	return v, nil
}

func (q *queryEmbedder) text(s string) ([]float32, error) {
	if err := q.open(); err != nil {
		return nil, err
	}
	if q.textEnc == nil {
		t, err := infer.NewTextEncoder(q.eng.Runtime, q.model, infer.EncoderOptions{Device: q.engine.Device, Threads: q.engine.Threads})
		if errors.Is(err, models.ErrNoTextTower) {
			return nil, fmt.Errorf("%q is not a file, and a text query needs a model with a text tower: "+
				"this store's model %s has none (text-capable models: %v)", s, q.model.Manifest.ID, models.TextModels())
		}
		if err != nil {
			return nil, err
		}
		q.textEnc = t
	}
	vs, err := q.textEnc.Embed([]string{s})
	if err != nil {
		return nil, fmt.Errorf("text query %q: %w", s, err)
	}
	return vs[0], nil
}

func (q *queryEmbedder) Close() {
	if q.textEnc != nil {
		q.textEnc.Close()
	}
	if q.eng != nil {
		q.eng.Close()
	}
}
