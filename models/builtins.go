package models

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

// The built-in models besides the default one, one folder per manifest id
// (builtins/<id>/manifest.json and its files): earlier defaults that
// stores may still hold vectors of (a store's recorded id opens the same
// weights and preprocessing, so it keeps working after the default
// changes), and newer ones offered by name before they become the default.
//
//go:embed builtins
var othersFS embed.FS

// OtherBuiltins lists the ids of the built-in models this binary carries
// besides the default one, sorted. Each is also a --model name.
func OtherBuiltins() []string {
	ents, err := fs.ReadDir(othersFS, "builtins")
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

// otherBuiltin opens the carried built-in model with this id.
func otherBuiltin(id string) (*Model, error) {
	sub, err := fs.Sub(othersFS, "builtins/"+id)
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
	for _, id := range OtherBuiltins() {
		registry[id] = func() (*Model, error) { return otherBuiltin(id) }
	}
}

func isOtherBuiltin(id string) bool {
	for _, p := range OtherBuiltins() {
		if p == id {
			return true
		}
	}
	return false
}
