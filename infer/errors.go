package infer

import "errors"

// Errors returned by this package. They are wrapped with context; test with
// errors.Is.
var (
	// ErrRuntimeNotFound: no usable onnxruntime library was found and none
	// could be downloaded (offline, or the platform has no pinned download).
	ErrRuntimeNotFound = errors.New("onnxruntime library not found")
	// ErrRuntimeLibrary: the library RuntimeOptions.Library names cannot
	// be used (missing, not onnxruntime, or too old: the error it wraps
	// says which); it is never replaced by another one.
	ErrRuntimeLibrary = errors.New("unusable onnxruntime library")
	// ErrOffline: no library was found and RuntimeOptions.Offline forbids
	// the download; it comes with ErrRuntimeNotFound.
	ErrOffline = errors.New("downloads are off")
	// ErrRuntimeVersion: a library was found but is older than MinVersion or
	// does not offer the C API this build needs.
	ErrRuntimeVersion = errors.New("onnxruntime library too old")
	// ErrRuntimeLoaded: a different library was asked for after one was
	// loaded; onnxruntime can be loaded once per process.
	ErrRuntimeLoaded = errors.New("another onnxruntime library is already loaded")
	// ErrDownload: the pinned download failed or its bytes did not match the
	// pinned size and SHA-256 (nothing was written to the cache).
	ErrDownload = errors.New("onnxruntime download failed")
	// ErrModelMismatch: the model's manifest disagrees with the ONNX graph's
	// own input/output description.
	ErrModelMismatch = errors.New("model manifest does not match the ONNX graph")
	// ErrDevice: the requested execution device cannot be used.
	ErrDevice = errors.New("device unavailable")
	// ErrCPUOnly: the onnxruntime library in use cannot run on CUDA: it
	// was built without the CUDA provider, or the provider's plugin
	// libraries are not beside it (Microsoft's onnxruntime-gpu build for
	// CUDA 12 has both). Runtime.CUDA says so, and ErrDevice wraps it.
	ErrCPUOnly = errors.New("this onnxruntime is CPU-only")
	// ErrClosed: the encoder was used after Close.
	ErrClosed = errors.New("encoder closed")
	// ErrNoCgo: this binary was built without cgo, so it cannot load
	// onnxruntime (or any C library) and runs no model.
	ErrNoCgo = errors.New("built without cgo: install a C compiler (gcc) and rebuild")
	// ErrNoVector: the model's output for one input has no direction (all
	// zeros, or a value that is not finite), so it cannot be normalised;
	// it is never stored.
	ErrNoVector = errors.New("the model gave no usable vector for this input (zero or not finite)")
)
