package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestCrossCheck compares Encode with OpenAI's reference tokenizer on the
// cases written by crosscheck/cases.py and tokenised by
// crosscheck/reference.py (Python with the regex module, so it is not part
// of the ordinary run). To run it:
//
//	/usr/bin/python3 crosscheck/cases.py /tmp/cases.jsonl
//	/usr/bin/python3 crosscheck/reference.py clip/bpe_simple_vocab_16e6.txt.gz /tmp/cases.jsonl /tmp/ref.jsonl
//	TOKENIZER_CROSSCHECK=/tmp go test -run CrossCheck ./infer/tokenizer/
func TestCrossCheck(t *testing.T) {
	dir := os.Getenv("TOKENIZER_CROSSCHECK")
	if dir == "" {
		t.Skip("set TOKENIZER_CROSSCHECK to a directory with cases.jsonl and ref.jsonl (see the comment)")
	}
	in, err := os.Open(filepath.Join(dir, "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ref, err := os.Open(filepath.Join(dir, "ref.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	tok, err := Default(Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := bufio.NewScanner(in), bufio.NewScanner(ref)
	a.Buffer(make([]byte, 1<<20), 1<<20)
	b.Buffer(make([]byte, 1<<20), 1<<20)
	n, bad := 0, 0
	for a.Scan() {
		if !b.Scan() {
			t.Fatalf("ref.jsonl has fewer lines than cases.jsonl (%d)", n)
		}
		var s string
		var want []int32
		if err := json.Unmarshal(a.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		got := tok.Encode(s)
		if len(got) != 0 || len(want) != 0 {
			if !reflect.DeepEqual(got, want) {
				bad++
				if bad <= 20 {
					t.Errorf("%+q: got %v, want %v", s, got, want)
				}
			}
		}
		n++
	}
	t.Logf("%d strings, %d differ from the reference", n, bad)
}

// FuzzTokens checks the shape of every model input: context length, start
// token first, exactly one end token at the end of the content, padding
// after it, ids inside the vocabulary.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"", "a photo of a dog", "&amp;amp; <|endoftext|>", "ΟΔΟΣ İ", "\x00\xff\xfe", "word word word"} {
		f.Add(s)
	}
	tok, err := Default(Options{Context: 16, PadID: 7})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Tokens(s)
		if len(ids) != 16 || ids[0] != StartID {
			t.Fatalf("%q: %v", s, ids)
		}
		bpe := tok.Encode(s)
		n := min(len(bpe), 14)
		if ids[1+n] != EndID {
			t.Fatalf("%q: end token not at %d: %v", s, 1+n, ids)
		}
		for i, id := range ids {
			if id < 0 || id >= VocabSize {
				t.Fatalf("%q: id %d out of range", s, id)
			}
			if i > 1+n && id != 7 {
				t.Fatalf("%q: padding %v", s, ids)
			}
		}
	})
}
