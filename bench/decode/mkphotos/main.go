// Command mkphotos writes the 12-megapixel benchmark photos: real photos
// from the shared test data enlarged to 4000x3000 with sensor-like noise
// (internal/testenv.MakePhotos12MP), 3.4 to 4.3 MB each.
//
//	go run ./bench/decode/mkphotos [-n 32] [-data ../shared/data] DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

func main() {
	n := flag.Int("n", 32, "number of photos")
	data := flag.String("data", "../shared/data", "the shared test data folder")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkphotos [-n N] [-data DIR] OUTDIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := testenv.MakePhotos12MP(*data, dir, *n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
