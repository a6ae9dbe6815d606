// Package infer runs image encoders through onnxruntime.
//
// Vocabulary:
//
//   - Runtime: the onnxruntime shared library loaded into the process. Locate
//     finds it in this order: RuntimeOptions.Library (the CLI's --onnxruntime
//     flag or ONNXRUNTIME_LIB); the user cache
//     (os.UserCacheDir()/embedsearch/onnxruntime/<version>/libonnxruntime.so.1,
//     checked against its pinned size and SHA-256 before every use); the
//     system library directories (LD_LIBRARY_PATH, the loader cache, /usr/lib
//     and friends; only versions >= MinVersion); else the Pin download. The
//     download streams the pinned tarball, checks its size and SHA-256 while
//     reading it, extracts the one library member, checks that too, and only
//     then renames it into the cache (temp file, fsync, rename, fsync dir).
//     Concurrent processes take a lock file in the cache folder, so the
//     second one waits and reuses the first one's result; a crash leaves at
//     most a stray ".download-*" temp file, never a partial library.
//     onnxruntime can be initialised once per process; LoadRuntime returns
//     the same Runtime on later calls.
//   - Provider: an onnxruntime execution provider ("CPUExecutionProvider",
//     "CUDAExecutionProvider"). Runtime.CUDA says whether CUDA can be used
//     and, if not, the first reason found.
//   - Encoder: one onnxruntime session on a model's image tower plus the
//     model's preprocess.Preparer. NewEncoder checks the model manifest
//     against the graph's own input/output description (ErrModelMismatch).
//     Every vector it returns is L2-normalised. A fixed-batch graph is run
//     with batches of exactly its size, padded with zero images.
//   - Pipeline: Encoder.Embed turns a stream of paths into a stream of
//     Items, in input order: decode+preprocess in Workers goroutines, batched
//     inference, emit from one goroutine. Per-file failures travel in
//     Item.Err; only emit's error, an inference failure or cancellation stop
//     it. Memory is bounded by the in-flight window (about two batches plus
//     one tensor per worker). Each file is read once, into a buffer reused
//     for the next, and hashed by its worker; EmbedWith's Known lets a
//     caller (index) skip decoding content it already has.
//
// A vector does not depend on the other images of its batch: images in a
// batch are independent rows of the graph (tested).
//
// Runtime and Encoder are safe for concurrent use. The package needs cgo and
// a Unix dynamic loader; the pinned download is linux/amd64 only.
package infer
