package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/dedup"
)

type dedupOptions struct {
	Store      string
	StoreSet   bool // --store or $EMBEDSEARCH_STORE given
	Model      string
	ModelSet   bool    // --model given: check it against the store
	Threshold  float64 // 0: from --preset and the model's manifest
	Preset     string
	In         []string
	Filter     string
	Keep       []string
	References []string
	MoveTo     string
	Link       string // "", "hard", "sym"
	Trash      bool
	Delete     bool
	Yes        bool
	DryRun     bool
	Undo       string
	Purge      string // --purge JOURNAL
	Journal    string
	JSON, CSV  bool
	JSONL      bool
	ExitCode   bool
	Exact      bool // compare all pairs even when the store has an approximate index
	Dirs       []string
	Engine     engineOptions
}

const dedupDescription = `Finds groups of near-duplicate images in the store and, when asked, acts on
every duplicate but one keeper per group.

With DIRs, the folders are indexed first (incrementally, into the store) and
only their images are grouped; without, the store's images are grouped
(restricted by --in and --filter).

THRESHOLD. Two images are duplicates when the Euclidean distance between their
L2-normalised embeddings is at most D (0 = identical, 2 = opposite). It relates
to cosine similarity by d² = 2 − 2·cos, i.e. cos = 1 − d²/2: d = 0.2 is
cos = 0.98, d = 0.5 is cos = 0.875. The default and the --preset values
(exact, near, similar) come from the model's manifest; near is the default.
In a group every two images are within D (pairs are joined nearest first, and
two groups merge only when all distances across them are within D), so a chain
a≈b≈c with a≉c never puts a and c together; each member's distance to the
keeper and the group's largest internal distance are shown.

KEEPER (--keep, repeatable, applied in order; ties go to the first path):
` + dedup.PolicyHelp + `
Files under --reference folders are always kept and never acted on.

ACTIONS (none by default: report only; only one at a time):
   --move-to DIR   move duplicates under DIR, keeping their path relative to the
                   folder they were found in; an existing file is never replaced
   --link hard|sym replace each duplicate by a link to its keeper (--yes when
                   some differ from their keeper, see below)
   --trash         move duplicates to the freedesktop.org trash
   --delete --yes  delete duplicates permanently
--dry-run prints exactly what would be done and changes nothing. Before each
action, the file is checked against the store (size, time, content hash) and
skipped with a reason if it changed; nothing outside the folders given (DIRs,
--in, or the store's indexed folders) is touched, and no symbolic link is
followed out of them. Every action is first written to a journal
(<store>/journals/dedup-TIME.jsonl, named on stderr);
'embedsearch dedup --undo JOURNAL' reverses moves, trash and links. Deletion
cannot be undone. The store is updated to match: moved, trashed, deleted and
symbolically linked files leave it (so a later dedup does not report them
again), and undo puts their entries back.

LINKS. Near-duplicates are not copies: linking one replaces its own bytes.
Those bytes are first set aside in the journal's holding folder
(dedup-TIME.held/ beside it, named on stderr), so undo restores the file byte
for byte; linking files whose bytes differ from their keeper needs --yes
(byte-identical copies link without it). The holding folder frees no space:
the space held is reported (stderr, "held_bytes" in --json stats), and
'embedsearch dedup --purge JOURNAL' releases it, after which undo cannot
restore those files (they stay links; undo says so and restores the rest).

OUTPUT. Readable groups by default; --json prints
{"version":2,"model","threshold","groups":[{"keep","members":[{"path","distance",
"width","height","size",...}],"max_distance"}],"stats":{...}}; --jsonl one line
per member, {"version":2,"group",<the member's fields>}; --csv one row per
member: group,path,keep,distance,width,height,size,action,dest,status,reason.
EXIT STATUS: 0 done; 3 some files of DIRs could not be indexed; 5 some actions
(or, with --undo, some restores) were refused (file changed, outside the
folders, destination exists, not restorable), listed on stderr; 4 duplicate
groups were found and --exit-code was given; 6 damaged vectors in the store
were left out, or its checksums do not match (run 'embedsearch index --repair');
when several apply, 6 wins over 3, 3 over 5, and all over 4; 1 error; 2 usage.`

func newDedupCommand() *cli.Command {
	return &cli.Command{
		Name:        "dedup",
		Usage:       "find near-duplicate images and optionally move, link, trash or delete them",
		ArgsUsage:   "[DIR...]",
		Description: dedupDescription,
		Flags: append([]cli.Flag{
			storeFlag(),
			&cli.Float64Flag{Name: "threshold", Aliases: []string{"t"}, Usage: "largest Euclidean distance `D` between duplicates (cos = 1 − D²/2)", DefaultText: "the model's --preset"},
			&cli.StringFlag{Name: "preset", Usage: "threshold preset from the model: `exact|near|similar`", Value: "near"},
			&cli.StringSliceFlag{Name: "in", Usage: "only images under `DIR` (repeatable)"},
			&cli.StringFlag{Name: "filter", Usage: "only images matching the bleve `QUERY` (e.g. 'ext:jpg width:>1000')"},
			&cli.StringSliceFlag{Name: "keep", Usage: "keeper `POLICY`: resolution|size|oldest|newest|shortest-path|prefer:DIR (repeatable)"},
			&cli.StringSliceFlag{Name: "reference", Usage: "`DIR` whose images are always kept, never acted on (repeatable)"},
			&cli.StringFlag{Name: "move-to", Usage: "move duplicates under `DIR`"},
			&cli.StringFlag{Name: "link", Usage: "replace duplicates by `hard|sym` links to the keeper"},
			&cli.BoolFlag{Name: "trash", Usage: "move duplicates to the trash"},
			&cli.BoolFlag{Name: "delete", Usage: "delete duplicates permanently (needs --yes)"},
			&cli.BoolFlag{Name: "yes", Usage: "confirm --delete, or --link of files whose bytes differ from their keeper"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "show what the action would do; change nothing"},
			&cli.StringFlag{Name: "undo", Usage: "reverse the actions recorded in `JOURNAL`"},
			&cli.StringFlag{Name: "purge", Usage: "release the space held for undoing the links in `JOURNAL` (those links can then not be undone)"},
			&cli.StringFlag{Name: "journal", Usage: "write the journal to `FILE` (default: under the store; for a weaviate:// store, under the user's data folder)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object (schema 2, see README)"},
			&cli.BoolFlag{Name: "jsonl", Usage: "print one JSON line per group member (streaming), each with its group"},
			&cli.BoolFlag{Name: "csv", Usage: "print CSV, one row per group member"},
			&cli.BoolFlag{Name: "exit-code", Usage: "exit with status 4 when duplicates were found"},
			&cli.BoolFlag{Name: "exact", Usage: "compare all pairs even in a store big enough for the approximate index"},
		}, engineFlags()...),
		Action: func(c *cli.Context) error {
			dir, err := storeDir(c)
			if err != nil {
				return err
			}
			o := dedupOptions{
				Store: dir, StoreSet: c.IsSet("store") || os.Getenv(envStore) != "", Model: c.String("model"), ModelSet: c.IsSet("model"), Preset: c.String("preset"),
				In: c.StringSlice("in"), Filter: c.String("filter"), Keep: c.StringSlice("keep"),
				References: c.StringSlice("reference"), MoveTo: c.String("move-to"), Link: c.String("link"),
				Trash: c.Bool("trash"), Delete: c.Bool("delete"), Yes: c.Bool("yes"), DryRun: c.Bool("dry-run"),
				Undo: c.String("undo"), Purge: c.String("purge"), Journal: c.String("journal"), JSON: c.Bool("json"), CSV: c.Bool("csv"), JSONL: c.Bool("jsonl"),
				ExitCode: c.Bool("exit-code"), Exact: c.Bool("exact"), Dirs: c.Args().Slice(),
			}
			if o.Engine, err = engineOptionsFrom(c); err != nil {
				return err
			}
			if c.IsSet("threshold") {
				o.Threshold = c.Float64("threshold")
				if err := checkDistance("--threshold", o.Threshold, false); err != nil {
					return err
				}
				if c.IsSet("preset") {
					return usagef("--threshold and --preset: give one")
				}
			}
			return runDedup(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// op checks the action flags and returns the action.
func (o dedupOptions) op() (dedup.Op, error) {
	var ops []dedup.Op
	if o.MoveTo != "" {
		ops = append(ops, dedup.OpMove)
	}
	switch o.Link {
	case "":
	case "hard":
		ops = append(ops, dedup.OpHardLink)
	case "sym", "symbolic", "soft":
		ops = append(ops, dedup.OpSymlink)
	default:
		return "", usagef("--link %q: use --link hard or --link sym", o.Link)
	}
	if o.Trash {
		ops = append(ops, dedup.OpTrash)
	}
	if o.Delete {
		ops = append(ops, dedup.OpDelete)
	}
	switch {
	case len(ops) > 1:
		return "", usagef("give one action: --move-to, --link, --trash or --delete")
	case len(ops) == 0:
		if o.DryRun {
			return "", usagef("--dry-run needs an action (--move-to, --link, --trash or --delete)")
		}
		if o.Yes {
			return "", usagef("--yes confirms --delete or --link; nothing to confirm")
		}
		return dedup.OpNone, nil
	}
	if ops[0] == dedup.OpDelete && !o.Yes && !o.DryRun {
		return "", usagef("--delete removes files permanently: add --yes to confirm (or try --dry-run, or --trash)")
	}
	return ops[0], nil
}
