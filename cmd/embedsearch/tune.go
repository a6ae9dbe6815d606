package main

import (
	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/tune"
)

// tuneOptions are tune's parsed flags.
type tuneOptions struct {
	Store     string
	Input     tune.Input
	Train     tune.Options
	Out       string
	Reproject string
	JSON      bool
	Quiet     bool
}

func newTuneCommand() *cli.Command {
	return &cli.Command{
		Name:      "tune",
		Usage:     "train a small head on the store's vectors from your labels, and write it as a new model",
		ArgsUsage: " ",
		Description: "Teaches the search your own notion of \"the same\" from labels: --labels FILE.tsv (PATH<TAB>LABEL\n" +
			"per line), --folders (each image's folder under its indexed folder is its label) or --pairs FILE.tsv\n" +
			"(PATH<TAB>PATH: two copies of one image; more paths on a line make one group); paths in a file are\n" +
			"relative to its folder, or absolute, and must be in the store. --pairs with --labels or --folders\n" +
			"says which images are copies (kept on one side of the split); --review adds the pairs you marked\n" +
			"\"not duplicates\" as negatives.\n\n" +
			"The store's vectors stay frozen; a linear head (starting at the identity) or a residual MLP is\n" +
			"trained with the --loss on tuples of an image, another of its label and a hard negative mined each\n" +
			"epoch with the store's own nearest-neighbour search (semi-hard, as FaceNet). Training stops early on\n" +
			"a part of the training side; the held-out images (--split, --holdout) are scored before and after.\n" +
			"A progress line per epoch goes to stderr.\n\n" +
			"--out DIR gets the tuned model: a manifest naming the base model by digest (not copied), the head\n" +
			"(head.onnx) and the training record (training.json). Use it as any model: 'embedsearch index --model\n" +
			"DIR --store NEW_STORE FOLDER', or --reproject NEW_STORE to write that store from this one's vectors\n" +
			"without decoding an image.",
		Flags: []cli.Flag{
			storeFlag(),
			&cli.StringFlag{Name: "labels", Usage: "labels `FILE.tsv`: PATH<TAB>LABEL per line"},
			&cli.BoolFlag{Name: "folders", Usage: "label each image by its folder under the indexed folder"},
			&cli.StringFlag{Name: "pairs", Usage: "duplicate pairs `FILE.tsv`: PATH<TAB>PATH per line"},
			&cli.BoolFlag{Name: "review", Usage: "add the pairs marked \"not duplicates\" in this store as negatives"},
			&cli.StringFlag{Name: "loss", Value: tune.LossTriplet, Usage: "`LOSS`: contrastive, triplet or ntxent"},
			&cli.Float64Flag{Name: "margin", DefaultText: "1 contrastive, 0.2 triplet; ntxent: temperature 0.1",
				Usage: "margin `M` of the loss (the temperature for ntxent)"},
			&cli.StringFlag{Name: "head", Value: tune.HeadLinear, Usage: "`KIND`: linear or mlp"},
			&cli.IntFlag{Name: "hidden", DefaultText: "the base model's dimension", Usage: "`N` hidden units of an mlp head"},
			&cli.IntFlag{Name: "dim", DefaultText: "the base model's", Usage: "output dimension `N`"},
			&cli.IntFlag{Name: "epochs", Value: 30, Usage: "at most `N` passes over the training images"},
			&cli.IntFlag{Name: "patience", Value: 5, Usage: "stop after `N` epochs without a better early-stopping score"},
			&cli.IntFlag{Name: "batch", Value: 128, Usage: "`N` anchors per optimiser step"},
			&cli.Float64Flag{Name: "learning-rate", Value: 0.002, Usage: "Adam's step size `RATE`"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed `N` (a run is the same for a seed)"},
			&cli.StringFlag{Name: "split", Value: tune.SplitImages,
				Usage: "`MODE`: images (each label's images divided, copies kept together), labels (no label on both sides) or order (the file's last part held out)"},
			&cli.Float64Flag{Name: "holdout", Value: 0.2, Usage: "`FRACTION` of the images held out and reported on"},
			&cli.StringFlag{Name: "search", DefaultText: "exact up to 100,000 images, else hnsw",
				Usage: "mining search `KIND`: exact or hnsw"},
			&cli.StringFlag{Name: "out", Usage: "write the tuned model to `DIR` (new or empty)"},
			&cli.StringFlag{Name: "reproject", Usage: "also write `NEW_STORE`: this store's vectors through the tuned model"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress lines"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("tune takes no arguments (got %q); labels come from --labels, --folders or --pairs", c.Args().First())
			}
			dir, err := storeDir(c)
			if err != nil {
				return err
			}
			o := tuneOptions{Store: dir, Out: c.String("out"), Reproject: c.String("reproject"), JSON: c.Bool("json"), Quiet: c.Bool("quiet"),
				Input: tune.Input{Labels: c.String("labels"), Folders: c.Bool("folders"), Pairs: c.String("pairs"), Review: c.Bool("review")},
				Train: tune.Options{Loss: c.String("loss"), Margin: c.Float64("margin"), Head: c.String("head"), Dim: c.Int("dim"), Hidden: c.Int("hidden"),
					Epochs: c.Int("epochs"), Patience: c.Int("patience"), Batch: c.Int("batch"), LearningRate: c.Float64("learning-rate"),
					Seed: c.Uint64("seed"), Split: c.String("split"), Holdout: c.Float64("holdout"), Search: c.String("search")}}
			if err := o.check(); err != nil {
				return err
			}
			return runTune(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// check refuses flag combinations before any work.
func (o tuneOptions) check() error {
	in := o.Input
	switch {
	case o.Out == "":
		return usagef("tune needs --out DIR: where the tuned model is written")
	case in.Labels != "" && in.Folders:
		return usagef("--labels and --folders both give class labels: use one")
	case in.Labels == "" && !in.Folders && in.Pairs == "" && in.Review:
		return usagef("--review adds negatives only: give the positives with --labels, --folders or --pairs")
	case in.Labels == "" && !in.Folders && in.Pairs == "":
		return usagef("tune needs labels: --labels FILE.tsv, --folders or --pairs FILE.tsv")
	case o.Train.Holdout <= 0 || o.Train.Holdout >= 1:
		return usagef("--holdout %v: want a fraction between 0 and 1", o.Train.Holdout)
	case o.Train.Epochs < 1 || o.Train.Batch < 1 || o.Train.Patience < 1:
		return usagef("--epochs, --batch and --patience must be at least 1")
	case o.Train.Margin < 0 || o.Train.LearningRate <= 0 || o.Train.Dim < 0 || o.Train.Hidden < 0:
		return usagef("--margin, --dim and --hidden must not be negative, --learning-rate must be positive")
	}
	if err := o.Train.Check(); err != nil {
		return usageError{err}
	}
	return nil
}
