package tokenizer

import "errors"

// Errors returned by this package. Wrap them with context; test with errors.Is.
var (
	// ErrVocab: a merges (vocabulary) file is malformed or incomplete.
	ErrVocab = errors.New("invalid tokenizer vocabulary")
	// ErrOptions: a context length or pad id is out of range.
	ErrOptions = errors.New("invalid tokenizer options")
)
