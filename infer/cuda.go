package infer

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const cudaProvider = "CUDAExecutionProvider"

// cudaLibraries are what onnxruntime's CUDA 12 build loads besides the
// driver (the CUDA runtime, cuBLAS and cuDNN 9); checked when the provider
// plugin's own list of libraries cannot be read.
var cudaLibraries = []string{"libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12", "libcudnn.so.9"}

// missingLibraries lists the shared libraries the CUDA provider plugin
// needs (its ELF DT_NEEDED entries) that the dynamic loader cannot find.
// Libraries beside the plugin count as found: the plugin's run path points
// there. Reading the plugin's own list keeps this right for CUDA 12 and 13
// builds alike.
func missingLibraries(plugin string) []string {
	needed := cudaLibraries
	if f, err := elf.Open(plugin); err == nil {
		if libs, err := f.ImportedLibraries(); err == nil {
			needed = libs
		}
		f.Close()
	}
	var missing []string
	for _, lib := range needed {
		if _, err := os.Stat(filepath.Join(filepath.Dir(plugin), lib)); err == nil {
			continue
		}
		if canLoad(lib) != nil {
			missing = append(missing, lib)
		}
	}
	return missing
}

// CUDA reports how many GPUs the CUDA execution provider can use or, when
// it cannot be used, the first reason found, one line (ErrCPUOnly when
// the library itself cannot run on CUDA). The checks run once: the
// library's build, the provider library beside it, the CUDA libraries it
// needs, a GPU the driver sees, and finally onnxruntime itself accepting
// the provider.
func (rt *Runtime) CUDA() (devices int, err error) {
	rt.cudaOnce.Do(func() { rt.cudaDevices, rt.cudaErr = rt.checkCUDA() })
	return rt.cudaDevices, rt.cudaErr
}

func (rt *Runtime) checkCUDA() (int, error) {
	if !slices.Contains(rt.providers, cudaProvider) {
		return 0, fmt.Errorf("%w: this build (%s, %s) has no CUDA provider (it offers %s)",
			ErrCPUOnly, rt.Version, rt.Path, strings.Join(rt.providers, ", "))
	}
	// Builds list the provider even when its plugin library is absent (the
	// pinned download is such a CPU-only package); onnxruntime loads the
	// plugins from the folder of libonnxruntime.
	dir := filepath.Dir(rt.Path)
	for _, plugin := range []string{"libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"} {
		if _, err := os.Stat(filepath.Join(dir, plugin)); err != nil {
			return 0, fmt.Errorf("%w: %s is not beside %s", ErrCPUOnly, plugin, rt.Path)
		}
	}
	if missing := missingLibraries(filepath.Join(dir, "libonnxruntime_providers_cuda.so")); len(missing) > 0 {
		return 0, fmt.Errorf("CUDA libraries not found: %s (install the CUDA runtime, cuBLAS and cuDNN versions this onnxruntime was built for, or add their lib folders to LD_LIBRARY_PATH)",
			strings.Join(missing, ", "))
	}
	n, err := cudaDeviceCount()
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errors.New("the CUDA driver sees no GPU device")
	}
	if err := cudaSessionOptions(); err != nil {
		return 0, fmt.Errorf("onnxruntime refused the CUDA provider: %s", oneLine(err.Error()))
	}
	return n, nil
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
