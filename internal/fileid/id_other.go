//go:build !unix

package fileid

import "io/fs"

func of(fs.FileInfo) (dev, ino uint64, ok bool) { return 0, 0, false }

func owner(fs.FileInfo) (int, bool) { return 0, false }
