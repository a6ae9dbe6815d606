package dedup

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzReadJournal: any bytes as a journal give a journal or an error
// (ErrBadJournal for what is not one), never a panic; what reads back
// must be consistent (every entry has a sequence number and a state).
func FuzzReadJournal(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.jsonl")
	j, err := CreateJournal(path, Header{Op: OpMove, Roots: []string{"/photos"}, MoveTo: "/aside", Created: time.Unix(1, 0).UTC()})
	if err != nil {
		f.Fatal(err)
	}
	j.do(Record{Op: OpMove, Src: "/photos/a.jpg", Dst: "/aside/a.jpg", Size: 3, SHA256: "ab"}, func() error { return nil })
	j.Close()
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add(seed[:len(seed)-7]) // torn last line
	f.Add([]byte(`{"journal":"embedsearch-dedup","version":99}` + "\n"))
	f.Add([]byte("not json\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "j.jsonl")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		h, entries, err := ReadJournal(p)
		if err != nil {
			return
		}
		if h.Journal != journalKind {
			t.Fatalf("accepted a journal of kind %q", h.Journal)
		}
		for _, e := range entries {
			if e.Seq <= 0 || e.Final == "" {
				t.Fatalf("entry without sequence or state: %+v", e)
			}
		}
	})
}
