package tokenizer

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean is the reference tokenizer's text normalisation, step for step:
// html.unescape twice, strip, every run of whitespace to one space, strip,
// lower-case. (The reference first runs ftfy.fix_text; its goldens treat that
// as the identity, and so do we: text that ftfy would repair, e.g. mojibake or
// curly quotes, is tokenised as given.)
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = unescapeHTML(unescapeHTML(s))
	s = strings.TrimFunc(s, isPySpace)
	s = collapseSpace(s)
	s = strings.TrimFunc(s, isPySpace)
	return lower(s)
}

// isPySpace is Python's str.isspace, which str.strip uses: Unicode White_Space
// plus the information separators U+001C..U+001F.
func isPySpace(r rune) bool {
	return isRegexSpace(r) || (r >= 0x1C && r <= 0x1F)
}

// isRegexSpace is \s of the regex module the reference uses (Unicode
// White_Space). Go's unicode.White_Space is the same property.
func isRegexSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.Is(unicode.White_Space, r)
}

// collapseSpace replaces each run of whitespace with a single space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inSpace := false
	for _, r := range s {
		if isRegexSpace(r) {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		b.WriteRune(r)
	}
	return b.String()
}

// lower is Python's str.lower: the full Unicode lower-case mapping, which
// differs from unicode.ToLower in two places: U+0130 becomes "i̇" (two code
// points) and a capital sigma at the end of a word becomes final sigma.
func lower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3A3:
			if finalSigma(rs, i) {
				b.WriteRune(0x3C2)
			} else {
				b.WriteRune(0x3C3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma is Unicode's Final_Sigma condition as CPython evaluates it:
// cased, case-ignorable*, Σ, and no case-ignorable* cased after it.
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !isCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && isCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !isCased(rs[j])
}

func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable is Unicode's Case_Ignorable: Mn, Me, Cf, Lm, Sk and the
// Word_Break classes MidLetter, MidNumLet and Single_Quote.
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// unescapeHTML is Python's html.unescape: numeric and named character
// references, the latter also without their semicolon and as the longest
// known prefix of a longer name (HTML5 rules), with Python's tables.
func unescapeHTML(s string) string {
	amp := strings.IndexByte(s, '&')
	if amp < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for amp >= 0 {
		b.WriteString(s[:amp])
		s = s[amp:]
		repl, n := charref(s)
		if n == 0 { // not a reference: keep the '&'
			b.WriteByte('&')
			s = s[1:]
		} else {
			b.WriteString(repl)
			s = s[n:]
		}
		amp = strings.IndexByte(s, '&')
	}
	b.WriteString(s)
	return b.String()
}

// charref decodes the reference at the start of s (s[0] == '&') and returns
// its replacement and the bytes it spans, or n == 0 when none matches
// Python's pattern &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?).
func charref(s string) (string, int) {
	if len(s) > 1 && s[1] == '#' {
		i, base := 2, 10
		if len(s) > 2 && (s[2] == 'x' || s[2] == 'X') {
			i, base = 3, 16
		}
		start := i
		for i < len(s) && isDigit(s[i], base) {
			i++
		}
		if i == start {
			return "", 0
		}
		digits := s[start:i]
		if i < len(s) && s[i] == ';' {
			i++
		}
		return numericRef(digits, base), i
	}
	// Named: up to 32 code points outside [\t\n\f <&#;], then an optional ';'.
	i, count := 1, 0
	for i < len(s) && count < 32 {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\t' || r == '\n' || r == '\f' || r == ' ' || r == '<' || r == '&' || r == '#' || r == ';' {
			break
		}
		i += size
		count++
	}
	if count == 0 {
		return "", 0
	}
	if i < len(s) && s[i] == ';' {
		i++
	}
	name := s[1:i]
	if v, ok := htmlEntities[name]; ok {
		return v, i
	}
	// Longest known prefix of at least two code points, shorter than the name.
	cut := make([]int, 0, 34) // byte offsets of code point boundaries in name
	for off := range name {
		cut = append(cut, off)
	}
	for x := len(cut) - 1; x > 1; x-- {
		if v, ok := htmlEntities[name[:cut[x]]]; ok {
			return v + name[cut[x]:], i
		}
	}
	return "&" + name, i
}

func isDigit(c byte, base int) bool {
	if c >= '0' && c <= '9' {
		return true
	}
	return base == 16 && (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func numericRef(digits string, base int) string {
	num, err := strconv.ParseUint(digits, base, 32)
	if err != nil { // out of range: larger than any code point
		return "\uFFFD"
	}
	if v, ok := htmlInvalidCharrefs[int(num)]; ok {
		return v
	}
	if (num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF {
		return "\uFFFD"
	}
	if htmlInvalidCodepoints[int(num)] {
		return ""
	}
	return string(rune(num))
}
