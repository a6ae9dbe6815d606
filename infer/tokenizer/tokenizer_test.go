package tokenizer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

type golden struct {
	Text     string  `json:"text"`
	BPE      []int32 `json:"bpe"`
	Tokens77 []int64 `json:"tokens77"`
}

func readGolden(t *testing.T, path string) []golden {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []golden
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var g golden
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, g)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkGolden(t *testing.T, tok *Tokenizer, gs []golden) {
	t.Helper()
	if len(gs) == 0 {
		t.Fatal("no golden lines")
	}
	bad := 0
	for _, g := range gs {
		bpe := tok.Encode(g.Text)
		if len(bpe) == 0 {
			bpe = []int32{}
		}
		if g.BPE == nil {
			g.BPE = []int32{}
		}
		got := tok.Tokens(g.Text)
		if !reflect.DeepEqual(bpe, g.BPE) || !reflect.DeepEqual(got, g.Tokens77) {
			bad++
			if bad <= 5 {
				t.Errorf("%q:\n bpe  %v\n want %v\n tokens %v\n want   %v", g.Text, bpe, g.BPE, got, g.Tokens77)
			}
		}
	}
	t.Logf("%d/%d golden strings match (bpe and tokens77)", len(gs)-bad, len(gs))
}

func TestGoldenSubset(t *testing.T) {
	tok, err := Default(Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, tok, readGolden(t, filepath.Join("testdata", "golden_subset.jsonl")))
}

// TestGoldenShared checks all 250 reference strings, reading the vocabulary
// from the shared copy as well (the path --vocab takes).
func TestGoldenShared(t *testing.T) {
	dir := testenv.SharedData(t, "clip-tokenizer")
	tok, err := Open(filepath.Join(dir, "bpe_simple_vocab_16e6.txt.gz"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	gs := readGolden(t, filepath.Join(dir, "golden.jsonl"))
	if len(gs) != 250 {
		t.Fatalf("golden.jsonl has %d lines, want 250", len(gs))
	}
	checkGolden(t, tok, gs)
}

// Cases the goldens do not cover, with the reference's answer worked out by
// hand from simple_tokenizer.py and Python's html/str semantics.
func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"&amp;amp;", "&"},                    // unescaped twice
		{"&amp;amp;amp;", "&amp;"},            // but not three times
		{"&ampamp;", "&"},                     // longest legacy prefix, rest kept; then again
		{"&notit;", "¬it;"},                   // prefix without ';'
		{"&#65;&#x42;&#X43", "abc"},           // numeric, ';' optional
		{"&#128;", "€"},                       // C1 read as Windows-1252
		{"&#1;x", "x"},                        // invalid code point dropped
		{"&#xD800;", "\uFFFD"},                // surrogate
		{"&#99999999999999999999;", "\uFFFD"}, // overflow
		{"&#;&x", "&#;&x"},                    // not references
		{"\x1c a\u00a0\u3000b \x1c", "a b"},   // strip uses str.isspace, collapse uses \s
		{"a\x1cb", "a\x1cb"},                  // U+001C is not \s
		{"İ", "i\u0307"},                      // full lower-casing
		{"ΟΔΟΣ ΣΑ", "οδος σα"},                // final sigma
		{"Σ", "σ"},
	} {
		if got := clean(c.in); got != c.want {
			t.Errorf("clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokensShape(t *testing.T) {
	tok, err := Default(Options{Context: 8, PadID: 49407})
	if err != nil {
		t.Fatal(err)
	}
	short := tok.Tokens("a photo of a dog")
	want := []int64{StartID, 320, 1125, 539, 320, 1929, EndID, 49407}
	if !reflect.DeepEqual(short, want) {
		t.Errorf("padded: %v, want %v", short, want)
	}
	long := tok.Tokens(strings.Repeat("dog ", 20))
	if len(long) != 8 || long[0] != StartID || long[7] != EndID || long[6] != 1929 {
		t.Errorf("truncated: %v (want start, six ids, end)", long)
	}
	batch := tok.Batch([]string{"a photo of a dog", strings.Repeat("dog ", 20)})
	if !reflect.DeepEqual(batch, append(short, long...)) {
		t.Errorf("batch %v differs from single rows", batch)
	}
	// U+0345 belongs to no pre-token under the reference's IGNORECASE pattern.
	if got, want := tok.Encode("a\u0345b"), tok.Encode("a b"); !reflect.DeepEqual(got, want) {
		t.Errorf("U+0345: %v, want %v", got, want)
	}
	// The special tokens are recognised inside text.
	if got := tok.Encode("x<|endoftext|>"); !reflect.DeepEqual(got, []int32{343, EndID}) {
		t.Errorf("special token: %v", got)
	}
}

func TestOptionsAndVocabErrors(t *testing.T) {
	if _, err := Default(Options{Context: 1}); !errors.Is(err, ErrOptions) {
		t.Errorf("context 1: %v, want ErrOptions", err)
	}
	if _, err := Default(Options{PadID: VocabSize}); !errors.Is(err, ErrOptions) {
		t.Errorf("pad id %d: %v, want ErrOptions", VocabSize, err)
	}
	if _, err := New(strings.NewReader("header\na b\n"), Options{}); !errors.Is(err, ErrVocab) {
		t.Errorf("short vocab: %v, want ErrVocab", err)
	}
	if _, err := New(strings.NewReader("header\na b c\n"), Options{}); !errors.Is(err, ErrVocab) {
		t.Errorf("bad line: %v, want ErrVocab", err)
	}
}

func TestConcurrent(t *testing.T) {
	tok, err := Default(Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := tok.Tokens("a photo of a dog on the beach")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				tok.Encode(fmt.Sprintf("word%d other%d", i, j))
				if got := tok.Tokens("a photo of a dog on the beach"); !reflect.DeepEqual(got, want) {
					t.Errorf("concurrent result differs")
					return
				}
			}
		}(i)
	}
	wg.Wait()
}

// BenchmarkTokens reports tokens/s on varied captions; the first pass fills
// the word cache as a long-running process would.
func BenchmarkTokens(b *testing.B) {
	tok, err := Default(Options{})
	if err != nil {
		b.Fatal(err)
	}
	words := strings.Fields("a photo of the dog cat beach sunset mountain river 4k hdr close-up aerial portrait vintage drawing child's o'clock café naïve 東京タワー")
	texts := make([]string, 256)
	total := 0
	for i := range texts {
		var sb strings.Builder
		for j := 0; j < 12; j++ {
			sb.WriteString(words[(i*7+j*13)%len(words)])
			sb.WriteByte(' ')
		}
		texts[i] = sb.String()
		total += len(tok.Encode(texts[i]))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range texts {
			tok.Tokens(s)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkBPEUncached measures BPE itself, without the word cache.
func BenchmarkBPEUncached(b *testing.B) {
	tok, err := Default(Options{})
	if err != nil {
		b.Fatal(err)
	}
	words := strings.Fields("photograph beach sunset mountain extraordinary antidisestablishmentarianism 東京タワー")
	n := 0
	for _, w := range words {
		n += len(tok.bpe(w))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, w := range words {
			tok.bpe(w)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func TestEmbeddedVocab(t *testing.T) {
	const want = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
	sum := sha256.Sum256(embeddedVocab)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("embedded vocabulary sha256 %s, want %s (OpenAI CLIP bpe_simple_vocab_16e6.txt.gz)", got, want)
	}
	shared, err := os.ReadFile(filepath.Join(testenv.SharedData(t, "clip-tokenizer"), "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, embeddedVocab) {
		t.Error("embedded vocabulary differs from the shared test data's copy")
	}
}
