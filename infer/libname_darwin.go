package infer

// How a macOS system offers onnxruntime: Homebrew's prefixes (Apple silicon,
// then Intel) and release folders; no loader cache.
const (
	libraryGlob    = "libonnxruntime*.dylib"
	libraryPathEnv = "DYLD_LIBRARY_PATH"
)

var systemLibDirs = []string{
	"/opt/homebrew/lib", "/opt/homebrew/opt/onnxruntime/lib", "/usr/local/lib",
	"/usr/local/opt/onnxruntime/lib", "/opt/onnxruntime/lib",
}
