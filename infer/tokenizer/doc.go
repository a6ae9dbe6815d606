// Package tokenizer turns text into the token ids of OpenAI CLIP's text tower.
//
// It is a Go port of CLIP's reference tokenizer (simple_tokenizer.py) and
// reproduces its output id for id:
//
//  1. clean: html.unescape twice (Python's rules and entity tables), strip,
//     collapse whitespace runs to one space, strip, lower-case (Python's full
//     lower-casing, including final sigma). The reference's ftfy.fix_text step
//     is treated as the identity, as in the goldens it is tested against.
//  2. split with the reference pattern into pre-tokens (words, single digits,
//     punctuation runs, English contractions, the two special tokens).
//  3. byte-level BPE on each pre-token's UTF-8 bytes; the last symbol of a
//     word carries "</w>".
//
// Vocabulary: 256 byte symbols, the same with "</w>", one id per merge of
// the merges file, then <|startoftext|> (49406) and <|endoftext|> (49407).
// The merges file of OpenAI CLIP (bpe_simple_vocab_16e6.txt.gz, MIT licence,
// see clip/LICENSE) is embedded; Open reads another in the same format.
//
// Tokens gives a model input: start token, ids, end token, padding to the
// context length (77, pad id 0 for OpenAI CLIP; both set per model). Longer
// text is truncated so that the end token is kept.
//
// A Tokenizer is immutable apart from an internal, locked word cache and is
// safe for concurrent use. Invalid UTF-8 in the input is read as U+FFFD.
package tokenizer
