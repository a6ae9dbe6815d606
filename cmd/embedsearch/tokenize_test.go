package main

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestTokenizeCommand(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"embedsearch", "tokenize", "a photo of a dog", "A Photo of a Dog.", "--context", "10"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per text, got %q", out.String())
	}
	var ids [][]int64
	for _, l := range lines {
		var row []int64
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("line %q is not a JSON array: %v", l, err)
		}
		ids = append(ids, row)
	}
	// Golden ids from OpenAI's reference tokenizer.
	if want := []int64{49406, 320, 1125, 539, 320, 1929, 49407, 0, 0, 0}; !reflect.DeepEqual(ids[0], want) {
		t.Errorf("first text: %v, want %v", ids[0], want)
	}
	if len(ids[1]) != 10 || ids[1][6] != 269 || ids[1][7] != 49407 {
		t.Errorf("second text: %v", ids[1])
	}
}

func TestTokenizeStdinAndBPE(t *testing.T) {
	var out bytes.Buffer
	err := runTokenize(tokenizeOptions{Context: 77, BPE: true}, nil, strings.NewReader("a photo of a dog\n\n"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "[320,1125,539,320,1929]\n[]\n"; got != want {
		t.Errorf("stdin --bpe: %q, want %q", got, want)
	}
}

func TestTokenizeErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"embedsearch", "tokenize", "--context", "1", "x"}, &out, &errb); code != exitUsage {
		t.Errorf("--context 1: exit %d, want %d (stderr %s)", code, exitUsage, errb.String())
	}
	errb.Reset()
	code := run(context.Background(), []string{"embedsearch", "tokenize", "--vocab", "/nonexistent/vocab.txt.gz", "x"}, &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), "/nonexistent/vocab.txt.gz") {
		t.Errorf("missing vocab: exit %d, stderr %q", code, errb.String())
	}
}

func TestTokenizeLicence(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"embedsearch", "tokenize", "--licence"}, &out, &errb); code != exitOK ||
		!strings.Contains(out.String(), "MIT License") || !strings.Contains(out.String(), "OpenAI") {
		t.Errorf("exit %d, output %q", code, out.String())
	}
}
