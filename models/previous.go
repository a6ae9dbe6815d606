package models

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

// Earlier built-in models that stores may still hold vectors of, one
// folder per manifest id (previous/<id>/manifest.json and its files). A
// store made with one keeps working after the default built-in model
// changes: its recorded id opens the same weights and preprocessing.
//
//go:embed previous
var previousFS embed.FS

// PreviousBuiltins lists the ids of the earlier built-in models this
// binary still carries, sorted. Each is also a --model name.
func PreviousBuiltins() []string {
	ents, err := fs.ReadDir(previousFS, "previous")
	if err != nil {
		return nil
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids
}

// previousBuiltin opens the earlier built-in model with this id.
func previousBuiltin(id string) (*Model, error) {
	sub, err := fs.Sub(previousFS, "previous/"+id)
	if err != nil {
		return nil, err
	}
	data, err := fs.ReadFile(sub, ManifestName)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrUnknownModel, id, err)
	}
	man, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("built-in model %s: %w", id, err)
	}
	if man.ID != id {
		return nil, fmt.Errorf("%w: built-in model folder %s holds id %s", ErrBadManifest, id, man.ID)
	}
	return load(man, "", sub)
}

func init() {
	for _, id := range PreviousBuiltins() {
		registry[id] = func() (*Model, error) { return previousBuiltin(id) }
	}
}

func isPreviousBuiltin(id string) bool {
	for _, p := range PreviousBuiltins() {
		if p == id {
			return true
		}
	}
	return false
}
