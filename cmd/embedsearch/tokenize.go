package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/infer/tokenizer"
)

type tokenizeOptions struct {
	Vocab   string
	Context int
	PadID   int
	BPE     bool
}

func newTokenizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "tokenize",
		Usage:     "print the CLIP token ids of each TEXT (one JSON array per line)",
		ArgsUsage: "TEXT...  (no TEXT: one text per line from stdin)",
		Description: "Tokenises like OpenAI CLIP's reference tokenizer: start token 49406, BPE ids,\n" +
			"end token 49407, padding to --context (truncated text keeps the end token).\n" +
			"--bpe prints only the BPE ids. The vocabulary is built in; --vocab reads another\n" +
			"merges file (bpe_simple_vocab_16e6.txt[.gz] format).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "vocab", Usage: "merges `FILE` (default: the built-in CLIP vocabulary)"},
			&cli.IntFlag{Name: "context", Value: tokenizer.DefaultContext, Usage: "sequence length `N`"},
			&cli.IntFlag{Name: "pad-id", Value: 0, Usage: "id that fills the sequence after the end token"},
			&cli.BoolFlag{Name: "bpe", Usage: "print the BPE ids only (no start/end token, no padding, no truncation)"},
			&cli.BoolFlag{Name: "licence", Usage: "print the licence of the built-in vocabulary and exit"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("licence") {
				fmt.Fprint(c.App.Writer, tokenizer.VocabLicense)
				return nil
			}
			o := tokenizeOptions{Vocab: c.String("vocab"), Context: c.Int("context"), PadID: c.Int("pad-id"), BPE: c.Bool("bpe")}
			if o.Context < 2 {
				return usagef("--context %d: need at least 2 (start and end token)", o.Context)
			}
			if o.PadID < 0 || o.PadID >= tokenizer.VocabSize {
				return usagef("--pad-id %d: must be in 0..%d", o.PadID, tokenizer.VocabSize-1)
			}
			return runTokenize(o, c.Args().Slice(), c.App.Reader, c.App.Writer)
		},
	}
}

func runTokenize(o tokenizeOptions, texts []string, stdin io.Reader, stdout io.Writer) error {
	topt := tokenizer.Options{Context: o.Context, PadID: o.PadID}
	var tok *tokenizer.Tokenizer
	var err error
	if o.Vocab != "" {
		tok, err = tokenizer.Open(o.Vocab, topt)
	} else {
		tok, err = tokenizer.Default(topt)
	}
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	one := func(text string) error {
		if o.BPE {
			ids := tok.Encode(text)
			if ids == nil {
				ids = []int32{}
			}
			return enc.Encode(ids)
		}
		return enc.Encode(tok.Tokens(text))
	}
	if len(texts) > 0 {
		for _, t := range texts {
			if err := one(t); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		if err := one(sc.Text()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return w.Flush()
}
