// Command calibrate chooses dedup's presets for a model on a held-out
// calibration set (bench/dedup/calibset.py makes them from photos no
// benchmark contains), never on a benchmark:
//
//	embedsearch index --store S bench/out/calib-A
//	go run ./bench/dedup/calibrate --store S --data bench/out/calib-A [--check-store S2 --check-data bench/out/calib-B]
//
// It reads the store's vectors and signatures (what dedup reads) and the
// set's groups.tsv and kinds.tsv, and chooses exact, near and similar, then
// the near test's constants, by the rules of package calibrate
// (calibrate.Thresholds, calibrate.HeldOut.ChooseNear): the one
// implementation, which `embedsearch calibrate` uses on a user's own photos
// too.
//
// With --check-store/--check-data it reports the chosen values on a second
// set (calib-B: other classes, other photos), which they must hold on.
// Prints the manifest block to paste; the README says where the values
// came from.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/embedsearch/embedsearch/calibrate"
	"github.com/embedsearch/embedsearch/store"
)

// load reads a set: the store indexed from data, and data's truth.
func load(storeDir, data string) *calibrate.HeldOut {
	r, err := store.Open(storeDir)
	if err != nil {
		fail(err)
	}
	root, _ := filepath.Abs(data)
	rel := func(id int) string { p, _ := filepath.Rel(root, r.Path(id)); return p }
	gid := map[string]int{}
	for i, line := range readLines(filepath.Join(data, "groups.tsv")) {
		for _, p := range strings.Split(line, "\t") {
			gid[p] = i
		}
	}
	kinds := map[string]string{}
	for _, line := range readLines(filepath.Join(data, "kinds.tsv")) {
		f := strings.Split(line, "\t")
		if len(f) == 3 {
			kinds[f[0]] = f[2]
		}
	}
	group := make([]int, r.Len())
	kind := make([]string, r.Len())
	for id := range r.Len() {
		p := rel(id)
		if g, ok := gid[p]; ok {
			group[id] = g
		} else {
			group[id] = -1 - id
		}
		kind[id] = kinds[p]
	}
	return calibrate.NewHeldOut(r, group, kind)
}

func readLines(p string) []string {
	b, err := os.ReadFile(p)
	if err != nil {
		fail(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "calibrate:", err)
	os.Exit(1)
}

func show(r calibrate.Result) string {
	return fmt.Sprintf("groups %d, wrong %d, purity %.3f, innocents %d, recall %.3f", r.Groups, r.Wrong, r.Purity, r.Innocents, r.Recall)
}

func main() {
	storeDir := flag.String("store", "", "store indexed from the calibration set")
	data := flag.String("data", "", "the calibration set (groups.tsv, kinds.tsv)")
	checkStore := flag.String("check-store", "", "store of a second set to check the choice on")
	checkData := flag.String("check-data", "", "the second set")
	flag.Parse()
	ctx := context.Background()
	s := load(*storeDir, *data)
	t := s.Thresholds()
	fmt.Printf("%s: %d images, %d true pairs; exact %.4f, near %.4f, similar %.4f\n", *data, s.Len(), s.TruePairs(), t.Exact, t.Near, t.Similar)
	pairs, compared, err := s.Prepare(ctx, float32(t.Near))
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d candidate pairs within near, %d compared by signature\n", pairs, compared)
	best, res, vec, front, err := s.ChooseNear(t)
	if errors.Is(err, calibrate.ErrNoChoice) {
		for _, p := range front {
			fmt.Printf("  purity %.3f recall %.3f innocents %d: %+v\n", p.Result.Purity, p.Result.Recall, p.Result.Innocents, p.Dedup)
		}
	}
	if err != nil {
		fail(err)
	}
	fmt.Printf("near test: %+v\n  %s\n", best, show(res))
	fmt.Printf("vectors alone: score %.2f: %s\n", best.ScoreVectors, show(vec))
	if *checkStore != "" {
		c := load(*checkStore, *checkData)
		if _, _, err := c.Prepare(ctx, float32(t.Near)); err != nil {
			fail(err)
		}
		fmt.Printf("check on %s: %s\n", *checkData, show(c.Score(best, t)))
	}
	fmt.Printf("\nmanifest:\n  \"thresholds\": {\"exact\": %.4f, \"near\": %.4f, \"similar\": %.4f},\n", t.Exact, t.Near, t.Similar)
	block, err := json.Marshal(best) // every field, in the manifest's own names
	if err != nil {
		fail(err)
	}
	fmt.Printf("  \"dedup\": %s\n", block)
}
