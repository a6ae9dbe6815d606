package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/collection"
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
			if isRemote(dir) {
				b, err := remoteStore(c.Context, dir) // no store: the message says what to do
				if err != nil {
					return err
				}
				b.Close()
			} else {
				r, err := openStoreReader(c) // no store: the message says what to do
				if err != nil {
					return err
				}
				r.Close()
			}
			return runForget(c.Context, dir, c.Args().Slice(), c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runForget(ctx context.Context, dir string, paths []string, stdout, stderr io.Writer) error {
	col, err := openCollection(ctx, dir, collection.Options{ANNThreshold: annThreshold, Note: noteTo(stderr, true)})
	if err != nil {
		return err
	}
	defer col.Close(ctx)
	n, err := col.Forget(ctx, paths...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "forgot %d entries\n", n)
	return col.Close(ctx)
}
