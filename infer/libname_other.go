//go:build !darwin

package infer

// How a Linux (or other ELF) system offers onnxruntime.
const (
	libraryGlob    = "libonnxruntime.so*"
	libraryPathEnv = "LD_LIBRARY_PATH"
)

// systemLibDirs are searched in order after the loader cache.
var systemLibDirs = []string{
	"/usr/local/lib", "/usr/local/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	"/usr/lib64", "/usr/lib", "/opt/onnxruntime/lib",
}
