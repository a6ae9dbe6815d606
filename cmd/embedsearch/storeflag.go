package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

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
	d, err := dataDir()
	if err != nil {
		return "", fmt.Errorf("%w for the default store; pass --store DIR", err)
	}
	return filepath.Join(d, "store"), nil
}

// dataDir is embedsearch's folder in the user's data folder:
// $XDG_DATA_HOME/embedsearch, or ~/.local/share/embedsearch (the XDG
// default).
func dataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "embedsearch"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("cannot find a home directory")
	}
	return filepath.Join(home, ".local", "share", "embedsearch"), nil
}

// openStoreReader opens the command's store for reading, with a hint when
// there is none yet.
func openStoreReader(c *cli.Context) (*store.Reader, error) {
	dir, err := storeDir(c)
	if err != nil {
		return nil, err
	}
	return openStore(dir)
}

// openStore opens the store at dir for reading, with a hint when there is
// none yet.
func openStore(dir string) (*store.Reader, error) {
	if isRemote(dir) {
		return nil, usagef("%s: a weaviate:// store works with index, status, forget, query, dedup and serve, not here yet", dir)
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
