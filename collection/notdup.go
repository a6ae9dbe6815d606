package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/internal/atomicfile"
	"github.com/embedsearch/embedsearch/internal/filelock"
)

// NotDuplicatesFile is the file in a store's folder that keeps the "not
// duplicates" marks: pairs of images a person said are not duplicates of
// each other, by content (the hex SHA-256 of each file's bytes, as
// store.Entry.SHA256 has it), so a mark survives moves and renames.
// FindDuplicates never accepts a marked pair.
const NotDuplicatesFile = "notdup.json"

// notDupVersion is the format version of NotDuplicatesFile; a newer one
// is ErrNotDupVersion, never read as if it were this one.
const notDupVersion = 1

// ErrNotDupVersion: the marks file was written by a newer embedsearch.
var ErrNotDupVersion = errors.New("the not-duplicates marks were written by a newer version")

// ErrNoContentHash: an image to mark has no content hash in the store (an
// entry indexed before hashes were kept); indexing its folder again adds it.
var ErrNoContentHash = errors.New("no content hash")

type notDupFile struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Pairs   [][2]string `json:"pairs"` // each pair ordered, the list sorted, no repeats
}

const notDupFormat = "embedsearch-notdup"

// NotDuplicatePairs lists the pairs of content hashes (hex SHA-256 of the
// files' bytes, store.Entry.SHA256) marked "not duplicates" in the store at
// storeDir: each pair ordered (a <= b), the list sorted, none repeated; an
// empty list when there are no marks. A person made each mark after looking
// at the two images side by side, so the pairs are reliable negatives (for
// calibrating the near test, say): look-alikes a criterion accepted or came
// close to accepting. Both hashes of a pair may be equal (byte-identical
// files marked as not duplicates). A pair's images may no longer be in the
// store; look them up by store.Entry.SHA256.
func NotDuplicatePairs(storeDir string) ([][2]string, error) {
	f, err := readNotDup(storeDir)
	if err != nil {
		return nil, err
	}
	return f.Pairs, nil
}

// MarkNotDuplicates marks every pair among the content hashes as "not
// duplicates" in the store at storeDir (see NotDuplicatePairs), and returns
// how many pairs were new. An empty hash is ErrNoContentHash, nothing
// marked. Writers in several processes take turns (a lock file beside the
// marks); the file is replaced atomically.
func MarkNotDuplicates(ctx context.Context, storeDir string, hashes ...string) (int, error) {
	for _, h := range hashes {
		if h == "" {
			return 0, fmt.Errorf("mark not duplicates: %w for one of the images; index its folder again", ErrNoContentHash)
		}
	}
	added := 0
	err := changeNotDup(ctx, storeDir, func(f *notDupFile) {
		have := map[[2]string]bool{}
		for _, p := range f.Pairs {
			have[p] = true
		}
		for i := range hashes {
			for j := i + 1; j < len(hashes); j++ {
				p := notDupPair(hashes[i], hashes[j])
				if !have[p] {
					have[p] = true
					f.Pairs = append(f.Pairs, p)
					added++
				}
			}
		}
	})
	return added, err
}

// UnmarkNotDuplicates removes the marks between every two of the hashes,
// and returns how many it removed.
func UnmarkNotDuplicates(ctx context.Context, storeDir string, hashes ...string) (int, error) {
	drop := map[[2]string]bool{}
	for i := range hashes {
		for j := i + 1; j < len(hashes); j++ {
			drop[notDupPair(hashes[i], hashes[j])] = true
		}
	}
	removed := 0
	err := changeNotDup(ctx, storeDir, func(f *notDupFile) {
		n := len(f.Pairs)
		f.Pairs = slices.DeleteFunc(f.Pairs, func(p [2]string) bool { return drop[p] })
		removed = n - len(f.Pairs)
	})
	return removed, err
}

func notDupPair(a, b string) [2]string {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// changeNotDup reads the marks under the lock, lets change edit them and
// writes them back atomically.
func changeNotDup(ctx context.Context, storeDir string, change func(*notDupFile)) error {
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l, err := filelock.Lock(lctx, filepath.Join(storeDir, "notdup.lock"))
	if err != nil {
		return fmt.Errorf("not-duplicates marks: %w", err)
	}
	defer l.Close()
	f, err := readNotDup(storeDir)
	if err != nil {
		return err
	}
	change(f)
	slices.SortFunc(f.Pairs, func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
	f.Format, f.Version = notDupFormat, notDupVersion
	return atomicfile.WriteJSON(storeDir, NotDuplicatesFile, f)
}

func readNotDup(storeDir string) (*notDupFile, error) {
	data, err := os.ReadFile(filepath.Join(storeDir, NotDuplicatesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &notDupFile{Pairs: [][2]string{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var f notDupFile
	if err := json.Unmarshal(data, &f); err != nil || f.Format != notDupFormat {
		return nil, fmt.Errorf("%s: not an embedsearch not-duplicates file (%v)", filepath.Join(storeDir, NotDuplicatesFile), err)
	}
	if f.Version > notDupVersion {
		return nil, fmt.Errorf("%s: %w (version %d; this build reads %d)", filepath.Join(storeDir, NotDuplicatesFile), ErrNotDupVersion, f.Version, notDupVersion)
	}
	if f.Pairs == nil {
		f.Pairs = [][2]string{}
	}
	return &f, nil
}

// notDupSet is the marks of a store, for FindDuplicates (nil: none).
func notDupSet(storeDir string) (map[[2]string]bool, error) {
	pairs, err := NotDuplicatePairs(storeDir)
	if err != nil || len(pairs) == 0 {
		return nil, err
	}
	set := make(map[[2]string]bool, len(pairs))
	for _, p := range pairs {
		set[p] = true
	}
	return set, nil
}
