// Package index keeps a store in step with folders of images.
//
// A run (Run) walks its roots, compares every image file with the store by
// path, size and modification time, and sends each new or changed file to
// the Embedder, which reads it once and hashes it in its decoding
// goroutines: content the store already holds (a moved, renamed, copied or
// merely touched file) reuses the stored vector without being decoded
// (infer.EmbedOptions.Known); the rest is embedded, and given its dedup
// signature (package signature) from the same decode. An unchanged image
// whose entry has no signature (a store written before signatures) is
// decoded once more and signed, its vector kept (Stats.Signed). Entries whose files no longer exist are removed
// (an entry whose file is still there but was not walked, say now excluded
// or hidden, stays until `forget`), but only
// under roots that exist, are readable, and still hold images (an unmounted
// drive's empty mount point keeps its entries: Stats.EmptyRoots), and never
// under a directory that could not be read.
//
// # Walking
//
// Directories are read in name order. Hidden names (leading dot) are skipped
// unless Options.IncludeHidden; junk directories (@eaDir, #recycle,
// $RECYCLE.BIN, System Volume Information, lost+found, node_modules, .git,
// .Trash-*, ...) always. Symbolic links are skipped unless
// Options.FollowSymlinks, which follows them and visits each directory
// (device, inode) once, so loops end. Walked files are chosen by extension
// (preprocess.IsImageName: the formats infer/preprocess decodes), so an unchanged
// re-index costs one lstat per file; files named explicitly (a root that is
// a file, Options.Files) are tried whatever their name. Paths are stored
// absolute and cleaned, through symlinks as walked (not resolved).
//
// # Crashes and interruptions
//
// Changes are committed every Options.CommitEvery entries or
// Options.CommitInterval, whichever comes first, so a kill loses at most
// that much work; the next run finds those files unchanged and goes on. The
// sweep of vanished files happens only at the end of a complete run, then
// the store is compacted (see package store). On cancellation Run commits
// what it has and returns the context's error.
//
// # Failures
//
// A file that cannot be read, decoded or embedded is a Failure (path and
// reason), reported through Options.Failure and Stats; it never stops the
// run and is tried again by the next one.
//
// Run is not safe for concurrent use on the same Writer (the Writer's lock
// keeps other processes out).
package index
