package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// statusReport is the JSON of `status --json`; its field names are part of
// the interface.
type statusReport struct {
	Store       string     `json:"store"`
	Model       string     `json:"model"`
	Dim         int        `json:"dim"`
	Images      int        `json:"images"`
	Roots       []string   `json:"roots"`
	Bytes       int64      `json:"bytes"`
	LastIndexed *time.Time `json:"last_indexed"`
	Failed      int        `json:"failed"`
	Segments    int        `json:"segments"`
	Generation  uint64     `json:"generation"`
	Search      searchMode `json:"search"`
}

// searchMode says how query and dedup search the store: "exact" (below
// the size where the approximate index starts), "approximate" (the index
// matches the store), or "exact-fallback" (the index is missing, stale or
// damaged; the next index run rebuilds it, Detail says why).
type searchMode struct {
	Mode      string `json:"mode"`
	Threshold int    `json:"ann_threshold"`
	ANNBytes  int64  `json:"ann_bytes"`
	Detail    string `json:"detail,omitempty"`
}

// searchState opens the approximate index as query would (milliseconds
// even for a million images); with verify it also checks the whole graph.
func searchState(r *store.Reader, verify bool) searchMode {
	sm := searchMode{Mode: "exact", Threshold: annThreshold}
	if r.Len() < annThreshold {
		return sm
	}
	_, err := index.LoadANN(r)
	if err == nil && verify {
		var data []byte
		if data, _, err = r.MapANN(); err == nil {
			err = search.VerifyHNSW(data)
		}
	}
	if st, serr := os.Stat(filepath.Join(r.Dir(), store.ANNFile)); serr == nil {
		sm.ANNBytes = st.Size()
	}
	if err != nil {
		sm.Mode, sm.Detail = "exact-fallback", err.Error()+"; `embedsearch index` rebuilds it"
		return sm
	}
	sm.Mode = "approximate"
	return sm
}

func newStatusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show the store's model, size, roots and last index run",
		Description: "With --json prints one object with the fields model, dim, images, roots, bytes,\n" +
			"last_indexed (RFC 3339, null if never), failed (files that failed in the last run),\n" +
			"search {mode: exact | approximate | exact-fallback, ann_threshold, ann_bytes, detail},\n" +
			"plus store, segments and generation. --verify also reads every vector against its checksum,\n" +
			"every catalog file against the checksum the last commit recorded, and the whole approximate\n" +
			"index (query checks only its small sections).",
		Flags: []cli.Flag{
			storeFlag(),
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "verify", Usage: "check the checksums of every segment and catalog file (reads the whole store)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("status takes no arguments (use --store DIR)")
			}
			dir, err := storeDir(c)
			if err != nil {
				return err
			}
			return runStatus(c.Context, statusOptions{Store: dir, JSON: c.Bool("json"), Verify: c.Bool("verify")}, c.App.Writer)
		},
	}
}

// statusOptions are status's flags.
type statusOptions struct {
	Store        string
	JSON, Verify bool
}

func runStatus(ctx context.Context, o statusOptions, stdout io.Writer) error {
	r, err := openReader(ctx, o.Store)
	if err != nil {
		return err
	}
	defer r.Close()
	asJSON, verify := o.JSON, o.Verify
	if verify {
		if err := r.Verify(); err != nil {
			return err
		}
		if err := r.VerifyCatalog(); err != nil {
			return err
		}
	}
	bytes, err := store.DiskUsage(r.Dir())
	if err != nil {
		return err
	}
	rep := statusReport{
		Store: r.Dir(), Model: r.Model().ModelID, Dim: r.Dim(), Images: r.Len(),
		Roots: r.Roots(), Bytes: bytes, Failed: r.Failed(),
		Segments: r.Segments(), Generation: r.Generation(),
		Search: searchState(r, verify),
	}
	if isRemote(o.Store) {
		rep.Store = o.Store // the numbers below are its mirror's
	}
	if rep.Roots == nil {
		rep.Roots = []string{}
	}
	if t := r.LastIndexed(); !t.IsZero() {
		rep.LastIndexed = &t
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	tw := newTable(stdout)
	last := "never"
	if rep.LastIndexed != nil {
		last = rep.LastIndexed.Local().Format("2006-01-02 15:04:05")
	}
	fmt.Fprintf(tw, "store:\t%s\n", rep.Store)
	fmt.Fprintf(tw, "model:\t%s (dim %d)\n", rep.Model, rep.Dim)
	fmt.Fprintf(tw, "images:\t%d\n", rep.Images)
	fmt.Fprintf(tw, "roots:\t%s\n", strings.Join(rep.Roots, "\n\t"))
	fmt.Fprintf(tw, "size:\t%s\n", humanBytes(rep.Bytes))
	fmt.Fprintf(tw, "last indexed:\t%s\n", last)
	fmt.Fprintf(tw, "failed:\t%d\n", rep.Failed)
	switch sm := rep.Search; sm.Mode {
	case "exact":
		fmt.Fprintf(tw, "search:\texact (the approximate index starts at %d images)\n", sm.Threshold)
	case "approximate":
		fmt.Fprintf(tw, "search:\tapproximate index, %s (--exact bypasses it)\n", humanBytes(sm.ANNBytes))
	default:
		fmt.Fprintf(tw, "search:\texact: approximate index not usable (%s)\n", sm.Detail)
	}
	if verify {
		if r.CatalogRecorded() {
			fmt.Fprintf(tw, "verified:\tall checksums match\n")
		} else {
			fmt.Fprintf(tw, "verified:\tall segment checksums match; the catalog has no recorded checksums yet (the next `embedsearch index` records them)\n")
		}
	}
	return tw.Flush()
}

// storeFilter evaluates --filter for query and dedup, so that both say
// the same: a filter that does not parse is a usage error (exit 2); a
// stale or damaged catalog is an error (exit 1), whose hint says what to run.
func storeFilter(r *store.Reader, q string) (func(int) bool, error) {
	f, err := r.Filter(q)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, store.ErrBadFilter):
		return nil, usageError{fmt.Errorf("--filter: %w", err)}
	default:
		return nil, fmt.Errorf("--filter %q: %w", q, err)
	}
}
