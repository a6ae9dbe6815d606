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
)
