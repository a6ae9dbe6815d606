package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// split calls fn with each pre-token of cleaned text, exactly as the
// reference pattern (Python regex module, IGNORECASE)
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// finds them: alternatives tried in order at each position, runs greedy,
// characters no alternative matches (spaces, and U+0345, which IGNORECASE
// keeps out of both classes) skipped. Case-insensitivity uses Unicode simple
// case folding, so "'ſ" matches 's as in the reference. The hand-written
// scanner runs several times faster than the same pattern in RE2
// (BenchmarkSplit); split_test.go checks that the two agree.
func split(s string, fn func(string)) {
	for i := 0; i < len(s); {
		if n := matchPrefixFold(s[i:], "<|startoftext|>"); n > 0 {
			fn(s[i : i+n])
			i += n
			continue
		}
		if n := matchPrefixFold(s[i:], "<|endoftext|>"); n > 0 {
			fn(s[i : i+n])
			i += n
			continue
		}
		if s[i] == '\'' {
			if n := contraction(s[i:]); n > 0 {
				fn(s[i : i+n])
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isLetter(r):
			j := i + size
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if !isLetter(r) {
					break
				}
				j += size
			}
			fn(s[i:j])
			i = j
		case unicode.IsNumber(r):
			fn(s[i : i+size])
			i += size
		case isOther(r):
			j := i + size
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if !isOther(r) {
					break
				}
				j += size
			}
			fn(s[i:j])
			i = j
		default:
			i += size
		}
	}
}

func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return (r|0x20) >= 'a' && (r|0x20) <= 'z'
	}
	return unicode.IsLetter(r)
}

// isOther is [^\s\p{L}\p{N}] with RE2's ASCII \s, minus U+0345.
func isOther(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\f', '\r', 0x345:
		return false
	}
	if r < utf8.RuneSelf {
		return !((r|0x20) >= 'a' && (r|0x20) <= 'z') && !(r >= '0' && r <= '9')
	}
	return !unicode.IsLetter(r) && !unicode.IsNumber(r)
}

// contraction matches 's|'t|'re|'ve|'m|'ll|'d (case-insensitively) at the
// start of s, which begins with an apostrophe, and returns its length.
func contraction(s string) int {
	for _, c := range [...]string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"} {
		if n := matchPrefixFold(s, c); n > 0 {
			return n
		}
	}
	return 0
}

// matchPrefixFold reports the byte length of the prefix of s that equals
// the ASCII literal lit under simple case folding, or 0.
func matchPrefixFold(s, lit string) int {
	i := 0
	for k := 0; k < len(lit); k++ {
		if i >= len(s) {
			return 0
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !foldEq(r, rune(lit[k])) {
			return 0
		}
		i += size
	}
	return i
}

func foldEq(r, c rune) bool {
	if r == c {
		return true
	}
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return false
}
