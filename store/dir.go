package store

import (
	"errors"
	"os"
	"path/filepath"
)

// EnvStore is the environment variable that overrides the default store.
const EnvStore = "EMBEDSEARCH_STORE"

// DefaultDir is where the store lives when neither --store nor
// $EMBEDSEARCH_STORE says otherwise: $XDG_DATA_HOME/embedsearch/store, or
// ~/.local/share/embedsearch/store (the XDG default).
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvStore); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "embedsearch", "store"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("cannot find a home directory for the default store; pass --store DIR")
	}
	return filepath.Join(home, ".local", "share", "embedsearch", "store"), nil
}
