package models

import "errors"

// Errors returned by this package. Wrap them with context; test with errors.Is.
var (
	// ErrBadManifest: a manifest is malformed or inconsistent.
	ErrBadManifest = errors.New("invalid model manifest")
	// ErrUnknownModel: a model name given to Open is neither a registry
	// entry nor a path.
	ErrUnknownModel = errors.New("unknown model")
	// ErrNoBuiltin: this build embeds no model, so the default (Open(""),
	// Builtin) fails; a model must be named. It comes with ErrUnknownModel.
	ErrNoBuiltin = errors.New("this build has no built-in model")
	// ErrUnregisteredID: OpenID was given a model id no registered model
	// has (a store built with a model folder): only that folder opens it.
	// It comes with ErrUnknownModel.
	ErrUnregisteredID = errors.New("no registered model has id")
	// ErrChecksum: a model file's size or SHA-256 differs from its manifest.
	ErrChecksum = errors.New("model file checksum mismatch")
	// ErrRecordedDigest comes with ErrChecksum when the digest the file
	// failed was not published but recorded at its first download (see
	// Cache): the file changed since, upstream or on the way.
	ErrRecordedDigest = errors.New("differs from its first download")
	// ErrBadGraph: a downloaded file whose digest is not known in advance
	// is not the ONNX graph its manifest describes (it does not parse, or
	// its input or output names, types or shapes differ).
	ErrBadGraph = errors.New("model file is not the graph its manifest describes")
	// ErrBaseModel: a tuned model's base model cannot be found, or is not
	// the one its head was trained on (another digest, dim, input or
	// preprocessing).
	ErrBaseModel = errors.New("tuned model's base model")
)
