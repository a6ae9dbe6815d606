// Command demofolder makes the folder that scripts/demo.sh indexes: the
// photos of SRC copied into OUT/originals, and copies of each made by
// package copies (the edits the near-duplicate calibration uses too) in
// OUT/copies, named NAME.EDIT.EXT. Each photo gets -per copies, the edits
// taken in turn from -edits, so the same SRC always gives the same folder.
//
//	go run ./scripts/demofolder [-edits LIST|all] [-per N] SRC OUT
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/embedsearch/embedsearch/copies"
	"github.com/embedsearch/embedsearch/infer/preprocess"
)

// demoEdits are the copies people make most (saved again, resized,
// cropped, framed, mirrored, captioned, recoloured) that the built-in model
// finds; README's Limitations name those it misses (heavy crops, turns).
const demoEdits = "jpeg-q50,half,crop80,border,mirror,text,thumb,canvas,grey,frame,png,bright,sepia,exif6,crop-left,hue"

func main() {
	list := flag.String("edits", demoEdits, "comma-separated edit names, or all")
	per := flag.Int("per", 2, "copies per photo")
	flag.Parse()
	if flag.NArg() != 2 || *per < 1 {
		fmt.Fprintln(os.Stderr, "usage: demofolder [-edits LIST|all] [-per N] SRC OUT")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *list, *per); err != nil {
		fmt.Fprintln(os.Stderr, "demofolder:", err)
		os.Exit(1)
	}
}

func run(src, out, list string, per int) error {
	var edits []copies.Edit
	if list == "all" {
		edits = copies.Edits()
	} else {
		for _, name := range strings.Split(list, ",") {
			e, ok := copies.Lookup(name)
			if !ok {
				return fmt.Errorf("no edit named %q", name)
			}
			edits = append(edits, e)
		}
	}
	per = min(per, len(edits))
	names, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	var photos []string
	for _, d := range names {
		if d.Type().IsRegular() && preprocess.IsImageName(d.Name()) {
			photos = append(photos, d.Name())
		}
	}
	if len(photos) == 0 {
		return fmt.Errorf("no photos in %s", src)
	}
	sort.Strings(photos)
	for _, sub := range []string{"originals", "copies"} {
		if err := os.MkdirAll(filepath.Join(out, sub), 0o755); err != nil {
			return err
		}
	}
	made, next := 0, 0
	for _, name := range photos {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		img, _, err := preprocess.Decode(data, preprocess.Limits{})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, "originals", name), data, 0o644); err != nil {
			return err
		}
		base := strings.TrimSuffix(name, filepath.Ext(name))
		for i := 0; i < per; i++ {
			e := edits[next%len(edits)]
			next++
			b, ext, err := copies.Make(img, e)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "copies", base+"."+e.Name+ext), b, 0o644); err != nil {
				return err
			}
			made++
		}
	}
	fmt.Printf("demo folder %s: %d originals, %d copies\n", out, len(photos), made)
	return nil
}
