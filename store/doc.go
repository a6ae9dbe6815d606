// Package store keeps embeddings and their metadata on disk: a directory
// bound to one model, written by one process at a time, read by any number
// of processes, and safe against a crash at any instant.
//
// # Vocabulary
//
//   - Entry: one indexed image (absolute cleaned path, size, mtime, content
//     SHA-256, dimensions, format, EXIF capture time, camera, GPS), and
//     its signature (opaque bytes dedup keeps per image).
//   - Segment: an immutable file holding vectors and their entries.
//   - Generation: a commit; MANIFEST names the segments of the current one.
//   - Binding: the model (id, ONNX digest, preprocessing fingerprint, dim)
//     every vector in the store came from. Opening with another is
//     ErrModelMismatch.
//   - Catalog: a bleve index of entry metadata for filter queries. It is
//     derived from the segments and can always be rebuilt.
//   - id: an entry's position in path order in a Reader's snapshot.
//
// # Directory
//
//	MANIFEST              commit point (replaced atomically)
//	seg-<gen:016x>.es     segments listed by MANIFEST
//	catalog/              bleve index (scorch)
//	ann.hnsw              approximate index (derived, like the catalog; ann.go)
//	LOCK                  writer lock (flock) + holder PID
//	.tmp-*                files being written (removed by the next writer)
//
// # Formats (all integers little-endian; this package refuses big-endian hosts)
//
// MANIFEST: "ESMANIFS" | version u32 (=1) | length u32 | JSON | crc32c u32
// over everything before it. The JSON holds generation, content_gen (last
// generation that changed entries), binding, segment list (name, gen, count,
// tombstones, size, header_crc, compacted), roots, created, last_indexed,
// failed, and catalog: every file under catalog/ (name, size, crc32c) as
// the last writer left it. An earlier build ignores the catalog list and
// drops it when it writes; a MANIFEST without one is read as before, its
// catalog trusted until the next writer records it.
//
// Segment file: a 4096-byte header page, then the vector block, then the
// signature section, then the entry section.
//
//	header:  "ESSEGMNT" | version u32 (=2) | dim u32 | count u64 |
//	         tombstones u64 | gen u64 | vec_crc u32 | ent_crc u32 |
//	         ent_offset u64 | ent_len u64 | sig_len u32 | sig_crc u32 |
//	         header_crc u32 (crc32c of bytes 0..72), zero padding to 4096
//	vectors: count × dim float32, row-major, at offset 4096 (page aligned,
//	         mapped in place: no decoding, no copy)
//	signatures: count slots of sig_len bytes (none when sig_len is 0): u16
//	         length (0: the entry has none) | the bytes | zero padding;
//	         sig_crc covers the section. Opaque to this package (dedup's
//	         per-image signature, Entry.Signature), mapped in place.
//	entries: offsets (count+1) × u64 into the records | records |
//	         tombstones (uvarint length + path each); ent_crc covers it all
//	record:  path | size varint | mtime varint ns | flags u8 (1 taken,
//	         2 gps, 4 sha) | [sha256 32 bytes] | width uvarint |
//	         height uvarint | format | [taken varint ns] | make | model |
//	         [lat f64 | lon f64]; strings are uvarint length + bytes
//
// Version 1 segments (written before signatures) are still read: the same
// layout without the signature section, bytes 64..68 reserved and the
// header CRC at 68 over bytes 0..68. Every commit writes version 2, so a
// store turns into version 2 as it is compacted; an earlier build refuses
// a version 2 segment with ErrVersion rather than misreading it.
//
// Records in a segment are sorted by path. A segment's tombstones delete
// paths of earlier segments; its records replace earlier records of the same
// path. The live set is the result of applying segments in generation order.
//
// Every file is checked before use: magic and version first (ErrVersion
// outside the supported range), then lengths, then checksums (ErrCorrupt;
// ErrCatalogDamaged for the catalog, whose bleve files have no checksums
// bleve checks: the MANIFEST's catalog list stands in for them).
// Open checks the manifest, the segment headers and entry-section CRCs;
// vector and signature CRCs are checked by Reader.Verify and by every
// OpenWriter (which verifies everything it will build on), signature CRCs
// alone by Reader.VerifySignatures. A damaged store is refused with
// ErrCorrupt until a Writer opens it with WriterOptions.Repair, which
// drops damaged segments, rebuilds a damaged MANIFEST from the segment files
// and rebuilds the catalog; it never panics on bad bytes. A MANIFEST that is
// missing beside segment files is damage too (ErrCorrupt), not an empty
// directory: a writer would otherwise start afresh and delete the segments.
//
// bleve trusts its files: a flipped byte makes it panic (in its own
// goroutines too, where no recover reaches) and a truncated file it maps
// faults the process. So the catalog is never opened before its files
// match the MANIFEST's list: sizes always; checksums on every OpenWriter
// (every index run), Reader.VerifyCatalog (status --verify), and every
// Reader.Filter while the catalog is below catalogSumLimit (64 MiB, some
// 40,000 images; reading them adds about a sixth to a filter query
// there). A larger catalog is size-checked only by Filter, since reading
// all of it grows with the store (about a second per million images with
// a warm page cache, more when cold) while the query reads only the parts
// it needs; a byte damaged in place there is found by the next index run
// or status --verify. Until then Filter turns a panic in its own goroutine
// (where bleve opens the catalog and where this test suite's damage made
// it panic) into ErrCatalogDamaged, but one in bleve's goroutines would
// still end the process. A
// writer rebuilds a damaged catalog (plain index, not only --repair), as
// it does a missing one. bleve's log lines (standard library logger) are
// discarded: this package never prints.
//
// # Commits and crashes
//
// Every file is written by one helper: temporary file, write, length check,
// fsync, rename, fsync of the directory. A commit writes its segment first,
// then the MANIFEST (the commit point), then updates the catalog, then
// writes the MANIFEST again (same generation) with the catalog's new file
// list. A crash before the first MANIFEST rename leaves the previous
// generation and an unreferenced segment or temporary file that the next
// writer deletes; a crash after it leaves the new generation with a catalog
// one commit behind, which the next writer replays from the segments (the
// catalog records the content generation it reflects) or rebuilds; a crash
// during the catalog batch or before the second MANIFEST leaves a catalog
// that differs from its list, which the next writer rebuilds.
//
// # Segments and search speed
//
// Search wants one contiguous matrix. Each commit adds a small segment
// (periodic commits during an index run), and Writer.Compact, which an index
// run calls when it finishes, merges everything into one segment in path
// order with no tombstones. A Reader of a compacted store hands out the
// mapped vector block itself (Vectors), with ids = rows = path order, and
// decodes an entry only when asked (Entry, Lookup by binary search). A Reader
// of a store with several segments (an index in progress or interrupted)
// merges the live set in memory once and copies the vectors on the first
// Vectors call. Compaction rewrites the whole store sequentially
// (BenchmarkStore100k: 3.7 s for 100,000 × 512 dims, 219 MB, on a busy
// 2-core machine), so a run that changes anything costs one rewrite.
//
// # Concurrency
//
// One Writer per store: OpenWriter takes an flock on LOCK and records its
// PID. The kernel drops the lock when the holder dies, so a lock left by a
// killed process never blocks (StaleLockPID reports it); a second live
// writer waits WriterOptions.LockWait and then fails with ErrLocked naming
// the PID. Readers take no lock and see the generation whose MANIFEST they
// read; segment files are immutable and a writer removes superseded ones
// only after the new MANIFEST is in place. A Reader that maps its files
// keeps them alive after removal (POSIX semantics); one that finds a file
// already gone reads the MANIFEST again. A Reader is safe for concurrent
// use; a Writer is not.
//
// The catalog (bleve) is opened by the writer only for the duration of a
// batch and by Reader.Filter only for one query, because bleve holds an
// exclusive lock while open. Filter waits briefly for a writer that has
// committed entries but not yet cataloged them, then fails with
// ErrCatalogStale. The catalog is updated in place, so Filter checks it
// against the latest MANIFEST's list, not its snapshot's; while a live
// writer holds LOCK (it may be between a catalog batch and the MANIFEST
// that lists it) a mismatch is retried for as long, then is
// ErrCatalogDamaged.
//
// # Filter fields
//
// path, dir, hash (exact); name, ext (no dot), format (lower-cased exact);
// make, model, camera (make + model; words, case-insensitive, every word
// kept: make:A finds the make "A", make:canon "Canon"); size, width,
// height, lat, lon (numbers: width:>1000); mtime, taken (dates:
// taken:>"2021-01-01"); gps (true when the image has a position). The
// filter is bleve's query-string syntax except that every clause must match
// (`ext:jpg width:>1000` is both); `-field:value` excludes. A term without a
// field matches the file name. A quoted value on an exact or lower-cased
// field is the whole value (path:"/photos/my cat.jpg"); on make, model or
// camera it is a phrase, words in that order (model:"eos 5d").
//
// The catalog records its format (bleve internal key
// embedsearch.catalog_format, u32; none is format 1). Format 2 indexes
// make, model and camera with every word and its position; format 1 used
// bleve's standard analyzer, which drops English stopwords ("a", "it",
// "on"), and kept no positions. bleve stores the mapping in the index and
// analyses queries with it, so a Reader queries a catalog as the build
// that created it indexed; a Writer rebuilds a catalog of another format
// when it opens the store (a repair note says so), and an earlier build
// reads a format 2 catalog as its own. A clause that could only match nothing by
// mistake is ErrBadFilter saying why (checkFilter): an unknown field (the
// error lists the fields), a number or date field compared with text or
// the reverse, gps with anything but true or false, and the parentheses
// and OR of other query languages, which this syntax does not have.
package store

import (
	"encoding/binary"
	"unsafe"
)

func init() {
	var x uint16 = 1
	if *(*byte)(unsafe.Pointer(&x)) != 1 || binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		panic("embedsearch/store: big-endian hosts are not supported (vectors are mapped in place)")
	}
}
