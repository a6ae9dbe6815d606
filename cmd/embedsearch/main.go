// Command embedsearch embeds image collections with contrastive encoders and
// answers nearest-neighbour questions over them. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	ctx, stop := interruptContext(os.Stderr)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// interruptContext is cancelled by the first Ctrl-C or SIGTERM, so that a
// command stops cleanly (committing what it did). A second one exits with
// 130 at once: every on-disk format survives a kill at any moment, so
// nothing committed is lost, and a user who asks twice is never kept waiting.
func interruptContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; !ok {
			return
		}
		cancel()
		if _, ok := <-sig; !ok {
			return
		}
		fmt.Fprintln(stderr, "embedsearch: interrupted again; exiting now (committed work is kept)")
		os.Exit(exitInterrupted)
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(sig)
		cancel()
	}
}

// run is the whole program short of os.Exit: tests call it with buffers and
// check the exit code, stdout and stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	if n := len(args); n > 1 && args[n-1] == completionFlag {
		return complete(app, args)
	}
	err := app.RunContext(ctx, intersperse(app, args))
	return report(stderr, err, ctx.Err() != nil)
}

// newApp builds the CLI. Tests call it with buffers for stdout and stderr.
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "embedsearch",
		Usage: "embed image collections and search them by visual similarity",
		Description: "Runs contrastive image encoders (built-in, CLIP, SigLIP, DINOv2, ...) through onnxruntime,\n" +
			"keeps the vectors in an on-disk store and answers nearest-neighbour questions.\n\n" + exitCodeHelp,
		Version:              readBuildInfo().Version,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// Errors are reported once, by main, with an exit code; not by cli.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return usageError{withFlagSuggestion(c, err)}
		},
		Commands: []*cli.Command{
			newIndexCommand(),
			newQueryCommand(),
			newDedupCommand(),
			newCalibrateCommand(),
			newStatusCommand(),
			newServeCommand(),
			newForgetCommand(),
			newTuneCommand(),
			newEmbedCommand(),
			newModelsCommand(),
			newTokenizeCommand(),
			newRuntimeCommand(),
			newVersionCommand(),
			newCompletionCommand(),
			newManCommand(),
		},
	}
	for _, cmd := range app.Commands {
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = app.OnUsageError
		}
	}
	return app
}
