// Package models describes encoders and finds their files.
//
// A Manifest (manifest.json beside the ONNX files) is the one description of
// a model: id (with a version, e.g. "builtin-v1"), files with size and
// SHA-256, the image tower's input/output tensors, the optional text tower and
// tokenizer, the preprocessing block, embedding dim, licence and default
// distance thresholds. A Model is a manifest plus the place its files live:
// a directory, or the built-in model embedded in the binary (go:embed).
//
// Open resolves a --model argument. Every file listed in a manifest is checked
// for size and SHA-256 when a Model is opened; the check of the manifest
// against the ONNX graph itself happens in infer, which can read the graph.
//
// Everything here is safe for concurrent use; Models are immutable.
package models
