package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// envStore is the environment variable that overrides the default store.
const envStore = "EMBEDSEARCH_STORE"

// storeFlag is the --store flag of every command that uses a store.
func storeFlag() cli.Flag {
	return &cli.StringFlag{Name: "store", Aliases: []string{"s"},
		Usage: "store `DIR` (default: $" + envStore + ", else the user data directory)"}
}

// storeDir is the store directory a command works on: --store, else
// $EMBEDSEARCH_STORE, else the default under the user's data directory.
func storeDir(c *cli.Context) (string, error) {
	if d := c.String("store"); d != "" {
		return d, nil
	}
	return defaultStoreDir()
}

// defaultStoreDir is where the store lives when neither --store nor
// $EMBEDSEARCH_STORE says otherwise: $XDG_DATA_HOME/embedsearch/store, or
// ~/.local/share/embedsearch/store (the XDG default).
func defaultStoreDir() (string, error) {
	if d := os.Getenv(envStore); d != "" {
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

// openStoreReader opens the command's store for reading, with a hint when
// there is none yet.
func openStoreReader(c *cli.Context) (*store.Reader, error) {
	dir, err := storeDir(c)
	if err != nil {
		return nil, err
	}
	r, err := store.Open(dir)
	if errors.Is(err, store.ErrNotExist) {
		return nil, fmt.Errorf("no store at %s: run 'embedsearch index DIR' first, or pass --store", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	return r, nil
}

// storeModelName is the registry name of the model an existing store is
// bound to, so that commands that embed into it (index) use that model when
// --model is not given. "" when there is no store or its model is not
// registered (a local model directory: --model is then required).
func storeModelName(dir string) string {
	r, err := store.Open(dir)
	if err != nil {
		return ""
	}
	defer r.Close()
	name, _ := models.NameForID(r.Model().ModelID)
	return name
}

// storeModel opens the model a store is bound to: spec (--model) when the
// user set it, otherwise the registered model with the store's model id;
// either way it must match the store's binding exactly.
func storeModel(spec string, set bool, b store.Binding) (*models.Model, error) {
	var m *models.Model
	var err error
	if set {
		m, err = models.Open(spec)
	} else {
		m, err = models.OpenID(b.ModelID)
	}
	if err != nil {
		return nil, err
	}
	if got := index.Binding(m); got != b {
		return nil, fmt.Errorf("%w: the store holds %s", store.ErrModelMismatch, b.Mismatch(got))
	}
	return m, nil
}
