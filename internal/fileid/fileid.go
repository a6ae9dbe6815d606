// Package fileid reads what the operating system says identifies a file
// and who owns it, from an fs.FileInfo: the device and inode numbers (to
// tell one folder reached twice through links, and whether two paths are
// on one file system) and the owner's user id. On Unix these come from
// stat(2); elsewhere Of and Owner report false, and callers go without
// (no loop detection by identity, no same-device test).
package fileid

import "io/fs"

// Of returns the device and inode numbers of the file fi describes.
func Of(fi fs.FileInfo) (dev, ino uint64, ok bool) { return of(fi) }

// Owner returns the user id owning the file fi describes.
func Owner(fi fs.FileInfo) (uid int, ok bool) { return owner(fi) }
