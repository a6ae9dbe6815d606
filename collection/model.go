package collection

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// ErrModelGone: the store was built from a model folder that is no longer
// where the store recorded it.
var ErrModelGone = errors.New("the store's model folder is gone")

// Model opens the model of the store at dir (or of a new store there):
//
//   - spec, when not "": a registered name, a model folder or an .onnx file
//     (models.Open); it must match the binding of an existing store;
//   - else the model the store records: its folder (ModelSource) when it was
//     built from one, else the registered model with its id;
//   - else, for a new store, the built-in model.
//
// It returns the model and where it came from ("" for a registered name),
// which a writer records so later commands find it without --model.
func Model(dir, spec string) (*models.Model, string, error) {
	r, err := store.Open(dir)
	switch {
	case errors.Is(err, store.ErrNotExist):
		r = nil
	case err != nil:
		// A damaged store still needs its model to be repaired: the
		// writer finds the binding; spec or the built-in is the guess.
		r = nil
	default:
		defer r.Close()
	}
	if spec != "" {
		m, err := models.Open(spec)
		if err != nil {
			return nil, "", err
		}
		if r != nil {
			if got := index.Binding(m); got != r.Model() {
				if err := models.RetiredBuiltin(r.Model().ModelID); err != nil {
					return nil, "", err
				}
				return nil, "", fmt.Errorf("%w: the store %s holds %s", store.ErrModelMismatch, dir, r.Model().Mismatch(got))
			}
		}
		return m, sourceOf(spec, m), nil
	}
	if r == nil {
		m, err := models.Builtin()
		return m, "", err
	}
	if src := r.ModelSource(); src != "" {
		if _, err := os.Stat(src); err != nil {
			return nil, "", fmt.Errorf("%w: %s was built with the model in %s (%v)", ErrModelGone, dir, src, err)
		}
		m, err := models.Open(src)
		if err != nil {
			return nil, "", err
		}
		if got := index.Binding(m); got != r.Model() {
			return nil, "", fmt.Errorf("%w: the model in %s changed since the store %s was built: %s",
				store.ErrModelMismatch, src, dir, r.Model().Mismatch(got))
		}
		return m, src, nil
	}
	m, err := models.OpenID(r.Model().ModelID)
	if err != nil {
		return nil, "", err
	}
	if got := index.Binding(m); got != r.Model() {
		return nil, "", fmt.Errorf("%w: the store %s holds %s", store.ErrModelMismatch, dir, r.Model().Mismatch(got))
	}
	return m, "", nil
}

// sourceOf is what a store records to find m again: nothing for a
// registered name (its id finds it), the absolute folder otherwise.
func sourceOf(spec string, m *models.Model) string {
	if _, err := os.Stat(spec); err != nil || m.Dir == "" {
		return ""
	}
	abs, err := filepath.Abs(m.Dir)
	if err != nil {
		return ""
	}
	return abs
}
