package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Token ids and sizes of OpenAI CLIP's vocabulary.
const (
	StartID        = 49406 // <|startoftext|>
	EndID          = 49407 // <|endoftext|>
	DefaultContext = 77
	// VocabSize is the number of ids: 256 byte symbols, the same with
	// "</w>", one per merge, and the two special tokens.
	VocabSize = 49408
	numMerges = VocabSize - 512 - 2
)

//go:embed clip/bpe_simple_vocab_16e6.txt.gz
var embeddedVocab []byte

// VocabLicense is the licence of the embedded vocabulary (MIT, OpenAI),
// carried in the binary with it; a CLI can print it.
//
//go:embed clip/LICENSE
var VocabLicense string

// Options set the shape of Tokens' output.
type Options struct {
	// Context is the length of every token sequence; 0 means 77.
	Context int
	// PadID fills the sequence after the end token (0 for OpenAI CLIP).
	PadID int
}

// Tokenizer is CLIP's byte-level BPE tokenizer. It is safe for concurrent use.
type Tokenizer struct {
	context int
	pad     int64
	// byteID[b] is the id of byte b as a symbol inside a word; +256 at a word's end.
	byteID [256]int32
	// merges maps a pair of adjacent symbol ids to its rank and merged id.
	merges map[uint64]merge

	mu    sync.Mutex
	cache map[string][]int32 // word -> ids
}

type merge struct{ rank, id int32 }

const maxCache = 1 << 16

// Default returns the tokenizer with the vocabulary embedded in the binary
// (OpenAI CLIP's bpe_simple_vocab_16e6, MIT licence, see clip/LICENSE).
func Default(o Options) (*Tokenizer, error) {
	return New(bytes.NewReader(embeddedVocab), o)
}

// Open reads a merges file (gzip-compressed or plain text).
func Open(path string, o Options) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := New(f, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// New reads a merges file in the format of bpe_simple_vocab_16e6.txt(.gz): a
// header line, then one merge ("a b") per line in rank order. Like the
// reference, it uses the first 48,894 merges.
func New(r io.Reader, o Options) (*Tokenizer, error) {
	if o.Context == 0 {
		o.Context = DefaultContext
	}
	if o.Context < 2 {
		return nil, fmt.Errorf("%w: context %d (need at least 2 for start and end tokens)", ErrOptions, o.Context)
	}
	if o.PadID < 0 || o.PadID >= VocabSize {
		return nil, fmt.Errorf("%w: pad id %d outside 0..%d", ErrOptions, o.PadID, VocabSize-1)
	}
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrVocab, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	t := &Tokenizer{context: o.Context, pad: int64(o.PadID), cache: make(map[string][]int32)}

	// The vocabulary in id order, as the reference builds it.
	byteRunes := bytesToUnicode()
	encoder := make(map[string]int32, VocabSize)
	next := int32(0)
	add := func(s string) { encoder[s] = next; next++ }
	for b := 0; b < 256; b++ {
		t.byteID[byteRunes.order[b]] = int32(b)
		add(string(byteRunes.char[byteRunes.order[b]]))
	}
	for b := 0; b < 256; b++ {
		add(string(byteRunes.char[byteRunes.order[b]]) + "</w>")
	}
	pairs := make([][2]string, 0, numMerges)
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() && len(pairs) < numMerges {
		line++
		if line == 1 {
			continue // header
		}
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: line %d: want two symbols, have %q", ErrVocab, line, sc.Text())
		}
		pairs = append(pairs, [2]string{f[0], f[1]})
		add(f[0] + f[1])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrVocab, err)
	}
	if len(pairs) != numMerges {
		return nil, fmt.Errorf("%w: %d merges, want %d", ErrVocab, len(pairs), numMerges)
	}
	add("<|startoftext|>")
	add("<|endoftext|>")
	t.merges = make(map[uint64]merge, numMerges)
	for rank, p := range pairs {
		a, okA := encoder[p[0]]
		b, okB := encoder[p[1]]
		if !okA || !okB {
			return nil, fmt.Errorf("%w: merge %d (%s %s) uses a symbol not in the vocabulary", ErrVocab, rank, p[0], p[1])
		}
		t.merges[pairKey(a, b)] = merge{rank: int32(rank), id: encoder[p[0]+p[1]]}
	}
	if encoder["<|startoftext|>"] != StartID || encoder["<|endoftext|>"] != EndID {
		return nil, fmt.Errorf("%w: special tokens at %d/%d, want %d/%d", ErrVocab,
			encoder["<|startoftext|>"], encoder["<|endoftext|>"], StartID, EndID)
	}
	return t, nil
}

// Context is the length of the sequences Tokens returns.
func (t *Tokenizer) Context() int { return t.context }

// Encode returns the BPE ids of text, without start and end tokens and
// without truncation.
func (t *Tokenizer) Encode(text string) []int32 {
	text = clean(text)
	var ids []int32
	split(text, func(w string) { ids = append(ids, t.word(w)...) })
	return ids
}

// Tokens returns the model input for text: the start token, the BPE ids, the
// end token, then padding up to Context. Text that does not fit is cut so
// that the sequence still ends with the end token (clip.tokenize with
// truncate=True).
func (t *Tokenizer) Tokens(text string) []int64 {
	out := make([]int64, t.context)
	t.fill(text, out)
	return out
}

// Batch tokenises texts into one row-major [len(texts), Context] tensor.
func (t *Tokenizer) Batch(texts []string) []int64 {
	out := make([]int64, len(texts)*t.context)
	for i, s := range texts {
		t.fill(s, out[i*t.context:(i+1)*t.context])
	}
	return out
}

func (t *Tokenizer) fill(text string, out []int64) {
	ids := t.Encode(text)
	if len(ids) > len(out)-2 {
		ids = ids[:len(out)-2]
	}
	out[0] = StartID
	for i, id := range ids {
		out[1+i] = int64(id)
	}
	out[1+len(ids)] = EndID
	for i := 2 + len(ids); i < len(out); i++ {
		out[i] = t.pad
	}
}

// word returns the ids of one pre-token, through a bounded cache.
func (t *Tokenizer) word(w string) []int32 {
	switch w {
	case "<|startoftext|>":
		return []int32{StartID}
	case "<|endoftext|>":
		return []int32{EndID}
	}
	t.mu.Lock()
	ids, ok := t.cache[w]
	t.mu.Unlock()
	if ok {
		return ids
	}
	ids = t.bpe(w)
	t.mu.Lock()
	if len(t.cache) >= maxCache {
		clear(t.cache)
	}
	t.cache[w] = ids
	t.mu.Unlock()
	return ids
}

// bpe merges the bytes of w, the lowest-ranked adjacent pair first, every
// occurrence of that pair left to right, until no known pair is left.
func (t *Tokenizer) bpe(w string) []int32 {
	sym := make([]int32, len(w))
	for i := 0; i < len(w); i++ {
		sym[i] = t.byteID[w[i]]
	}
	sym[len(sym)-1] += 256 // the "</w>" form
	for len(sym) > 1 {
		best := merge{rank: -1}
		for i := 0; i+1 < len(sym); i++ {
			if m, ok := t.merges[pairKey(sym[i], sym[i+1])]; ok && (best.rank < 0 || m.rank < best.rank) {
				best = m
			}
		}
		if best.rank < 0 {
			break
		}
		// All occurrences of the pair with this rank, left to right, without overlap.
		out := sym[:0]
		for i := 0; i < len(sym); i++ {
			if i+1 < len(sym) {
				if m, ok := t.merges[pairKey(sym[i], sym[i+1])]; ok && m.rank == best.rank {
					out = append(out, best.id)
					i++
					continue
				}
			}
			out = append(out, sym[i])
		}
		sym = out
	}
	return sym
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// byteChars is the reference's bytes_to_unicode table: printable Latin-1
// bytes stand for themselves, the others for code points from U+0100 up.
// order lists bytes in vocabulary order.
type byteChars struct {
	char  [256]rune
	order [256]byte
}

func bytesToUnicode() *byteChars {
	var bc byteChars
	printable := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
	}
	k, n := 0, 0
	for b := 0; b < 256; b++ {
		if printable(b) {
			bc.char[b] = rune(b)
			bc.order[k] = byte(b)
			k++
		}
	}
	for b := 0; b < 256; b++ {
		if !printable(b) {
			bc.char[b] = rune(256 + n)
			n++
			bc.order[k] = byte(b)
			k++
		}
	}
	return &bc
}
