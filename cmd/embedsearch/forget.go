package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/store"
)

func newForgetCommand() *cli.Command {
	return &cli.Command{
		Name:      "forget",
		Usage:     "remove the entries of files at or under each PATH from the store",
		ArgsUsage: "PATH...",
		Description: "Removes entries whose path is PATH or lies under it (files need not exist), and\n" +
			"forgets PATH as an index root. Images are not touched.",
		Flags: []cli.Flag{storeFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("forget needs at least one PATH")
			}
			dir, err := storeDir(c)
			if err != nil {
				return err
			}
			r, err := openStoreReader(c)
			if err != nil {
				return err
			}
			b := r.Model()
			r.Close()
			return runForget(dir, b, c.Args().Slice(), c.App.Writer)
		},
	}
}

func runForget(dir string, b store.Binding, paths []string, stdout io.Writer) error {
	w, err := store.OpenWriter(dir, b, store.WriterOptions{})
	if err != nil {
		return err
	}
	defer w.Close()
	ann := index.PrepareANN(w)
	defer ann.Close()
	n, err := index.Forget(w, paths...)
	if err != nil {
		return err
	}
	if err := w.Compact(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "forgot %d entries\n", n)
	return updateANN(context.Background(), ann, w, true, io.Discard)
}
