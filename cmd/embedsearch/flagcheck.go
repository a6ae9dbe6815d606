package main

import (
	"math"
	"os"
	"path/filepath"
)

// Checks of flag values shared by several commands, each returning a usage
// error (exit 2) that names the flag.

// checkDistance refuses a distance flag that no two embeddings can be
// apart: distances between unit vectors lie in [0, 2]. NaN and infinities
// are refused too (strconv, and so the flag parser, accepts "nan" and
// "inf"); 0 only where it means "no limit" (zeroOK).
func checkDistance(flag string, d float64, zeroOK bool) error {
	if !math.IsNaN(d) && d >= 0 && d <= 2 && (d > 0 || zeroOK) {
		return nil
	}
	if zeroOK {
		return usagef("%s %g: must be a distance in [0, 2] (0: no limit)", flag, d)
	}
	return usagef("%s %g: must be a distance in (0, 2]", flag, d)
}

// existingDirs makes folder arguments absolute and checks that each is an
// existing folder: a mistyped --in would otherwise filter out everything
// and look like an empty answer.
func existingDirs(flag string, dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return nil, usagef("%s %s: not a folder", flag, d)
		}
		out = append(out, abs)
	}
	return out, nil
}
