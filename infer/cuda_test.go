package infer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMissingLibraries builds a stand-in provider plugin that needs one
// library of its own and libc, and checks that only what the loader cannot
// find is reported.
func TestMissingLibraries(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found (needed to build a test plugin)")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", args, err, out)
		}
	}
	os.WriteFile(filepath.Join(dir, "dep.c"), []byte("int es_dep(void) { return 1; }\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "plugin.c"), []byte("int es_dep(void);\nint es_plugin(void) { return es_dep(); }\n"), 0o644)
	run("-shared", "-fPIC", "-o", filepath.Join(dir, "libesdep.so"), filepath.Join(dir, "dep.c"))
	plugin := filepath.Join(dir, "libonnxruntime_providers_cuda.so")
	run("-shared", "-fPIC", "-o", plugin, filepath.Join(dir, "plugin.c"), "-L"+dir, "-Wl,--no-as-needed", "-lesdep")

	if m := missingLibraries(plugin); len(m) != 0 {
		t.Errorf("dependency beside the plugin: missing %v, want none", m)
	}
	os.Rename(filepath.Join(dir, "libesdep.so"), filepath.Join(dir, "moved.so"))
	if m := missingLibraries(plugin); !slices.Equal(m, []string{"libesdep.so"}) {
		t.Errorf("dependency removed: missing %v, want [libesdep.so]", m)
	}

	// The reasons checkCUDA gives, in the order it checks.
	rt := &Runtime{Path: filepath.Join(dir, "libonnxruntime.so.1"), Version: "1.24.3", providers: []string{"CPUExecutionProvider"}}
	if n, err := rt.checkCUDA(); !errors.Is(err, ErrCPUOnly) || !strings.Contains(err.Error(), "has no CUDA provider") {
		t.Errorf("build without the provider: %d, %v; want ErrCPUOnly", n, err)
	}
	rt.providers = []string{cudaProvider, "CPUExecutionProvider"}
	if n, err := rt.checkCUDA(); !errors.Is(err, ErrCPUOnly) || !strings.Contains(err.Error(), "libonnxruntime_providers_shared.so is not beside") {
		t.Errorf("no plugin folder: %d, %v; want ErrCPUOnly", n, err)
	}
	os.WriteFile(filepath.Join(dir, "libonnxruntime_providers_shared.so"), nil, 0o644)
	if n, err := rt.checkCUDA(); err == nil || errors.Is(err, ErrCPUOnly) || !strings.Contains(err.Error(), "CUDA libraries not found: libesdep.so") {
		t.Errorf("plugin with a missing dependency: %d, %v", n, err)
	}
}
