// Package models describes encoders and finds their files.
//
// A Manifest (manifest.json beside the ONNX files) is the one description of
// a model: id (with a version, e.g. "builtin-v3"), files with size and
// SHA-256, the image tower's input/output tensors, the optional text tower and
// tokenizer, the preprocessing block, embedding dim, licence and default
// distance thresholds. A Model is a manifest plus the place its files live:
// a directory, or the built-in model embedded in the binary (go:embed).
//
// Open resolves a --model argument. Every file listed in a manifest is checked
// for size and SHA-256 when a Model is opened; the check of the manifest
// against the ONNX graph itself happens in infer, which can read the graph.
//
// The zoo (zoo.go) lists public encoders by name (clip-vit-b32, dinov2-small,
// ...): a manifest template whose files carry download URLs, sizes and
// digests where they are published, and the facts that could not be
// verified. Cache (cache.go) keeps downloaded models content-addressed:
// blobs/sha256-<hex>, per-model directories of hard links, and each model's
// manifest.json written last, so a crash leaves the previous state or a
// resumable .partial download, never a half model. A file whose digest is
// not known in advance is checked structurally before it is accepted
// (onnx.go: the ONNX graph parses and has the manifest's input and output
// names, types and shapes), and its digest is recorded at that first
// download in the cache's pins.json, which outlives Remove: every later
// download and use must match it (Forget drops it).
// Pulls of one model are serialised by a file lock across processes.
//
// Everything here is safe for concurrent use; Models are immutable.
package models
