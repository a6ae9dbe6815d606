//go:build !linux

package dedup

func renameNoReplace(src, dst string) error { return linkRename(src, dst) }
