package models

import "errors"

// Errors returned by this package. Wrap them with context; test with errors.Is.
var (
	// ErrBadManifest: a manifest is malformed or inconsistent.
	ErrBadManifest = errors.New("invalid model manifest")
	// ErrUnknownModel: a --model name is neither a registry entry nor a path.
	ErrUnknownModel = errors.New("unknown model")
	// ErrChecksum: a model file's size or SHA-256 differs from its manifest.
	ErrChecksum = errors.New("model file checksum mismatch")
)
