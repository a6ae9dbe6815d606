package infer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// MinVersion is the oldest onnxruntime this build can load: onnxruntime_go
// v1.27 asks the library for C API 24, first offered by onnxruntime 1.24.
const MinVersion = "1.24.0"

// apiVersion is the onnxruntime C API version onnxruntime_go v1.27 asks for.
const apiVersion = 24

// Where a runtime library came from (Runtime.Source).
const (
	SourceExplicit = "explicit" // RuntimeOptions.Library
	SourceCache    = "cache"    // the user cache, put there by an earlier download
	SourceSystem   = "system"   // a system library directory
	SourceDownload = "download" // downloaded just now (and cached)
)

// RuntimeOptions says where to find or how to provision the onnxruntime
// shared library. The zero value searches the cache and the system and
// downloads the pinned build when neither has one.
type RuntimeOptions struct {
	// Library is an explicit path to libonnxruntime.so; "" searches.
	Library string
	// CacheDir is the root of embedsearch's cache; "" is the user cache
	// directory (os.UserCacheDir()/embedsearch). The library lives in
	// CacheDir/onnxruntime/<version>/.
	CacheDir string
	// Offline forbids the download.
	Offline bool
	// BaseURL replaces the registry the pinned tarball is fetched from
	// (a mirror; tests use a local server). The tarball's path below it and
	// its checksums do not change.
	BaseURL string
	// Progress is called while downloading with bytes done and the total;
	// may be nil.
	Progress func(done, total int64)
	// Pin overrides the pinned download (tests); nil means DefaultPin.
	Pin *Pin
}

// Runtime is the onnxruntime library loaded into this process. There is at
// most one per process; it is safe for concurrent use.
type Runtime struct {
	Path    string // the shared library in use
	Version string // as the library reports it, e.g. "1.24.3"
	Source  string // SourceExplicit, SourceCache, SourceSystem or SourceDownload

	providers   []string
	cudaOnce    sync.Once
	cudaDevices int
	cudaErr     error
}

var (
	loadMu sync.Mutex
	loaded *Runtime
)

// LoadRuntime finds (or downloads) the onnxruntime library and initialises
// it. onnxruntime is loaded once per process: later calls return the same
// Runtime, or ErrRuntimeLoaded when they name a different library.
func LoadRuntime(ctx context.Context, o RuntimeOptions) (*Runtime, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	if loaded != nil {
		if o.Library != "" && !samePath(o.Library, loaded.Path) {
			return nil, fmt.Errorf("%w: %s (asked for %s)", ErrRuntimeLoaded, loaded.Path, o.Library)
		}
		return loaded, nil
	}
	lib, err := Locate(ctx, o)
	if err != nil {
		return nil, err
	}
	providers, err := libraryProviders(lib.Path)
	if err != nil {
		return nil, fmt.Errorf("onnxruntime %s: %w", lib.Path, err)
	}
	if err := initRuntime(lib.Path); err != nil {
		return nil, fmt.Errorf("onnxruntime %s: initialise: %w", lib.Path, err)
	}
	loaded = &Runtime{Path: lib.Path, Version: lib.Version, Source: lib.Source, providers: providers}
	return loaded, nil
}

func samePath(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb || a == b
}

// Providers lists the execution providers built into the library, e.g.
// ["CPUExecutionProvider"] or ["CUDAExecutionProvider", "CPUExecutionProvider"].
func (rt *Runtime) Providers() []string { return append([]string(nil), rt.providers...) }

// Library is a located onnxruntime shared library, not yet loaded.
type Library struct {
	Path, Version, Source string
}

// Locate finds a usable library in this order: o.Library; the user cache;
// the system library directories (only versions >= MinVersion); else the
// pinned download, verified and then cached. It loads nothing into the
// process beyond briefly opening candidates to read their version.
func Locate(ctx context.Context, o RuntimeOptions) (Library, error) {
	if !cgoEnabled {
		return Library{}, ErrNoCgo
	}
	if o.Library != "" {
		path := libraryIn(o.Library)
		v, err := checkLibrary(path)
		if err != nil {
			return Library{}, fmt.Errorf("%w: %s: %w", ErrRuntimeLibrary, path, err)
		}
		return Library{path, v, SourceExplicit}, nil
	}
	pin := o.pin()
	cacheDir, err := o.cacheDir()
	if err != nil {
		return Library{}, err
	}
	cached := pin.cachePath(cacheDir)
	if err := pin.verifyCached(cached); err == nil {
		v, err := checkLibrary(cached)
		if err == nil {
			return Library{cached, v, SourceCache}, nil
		}
	}
	var rejected []string
	for _, p := range systemCandidates() {
		v, err := checkLibrary(p)
		if err == nil {
			return Library{p, v, SourceSystem}, nil
		}
		rejected = append(rejected, fmt.Sprintf("%s (%v)", p, err))
	}
	found := "none found in the cache or the system library directories"
	if len(rejected) > 0 {
		found = "system libraries not usable: " + strings.Join(rejected, "; ")
	}
	if o.Offline {
		return Library{}, fmt.Errorf("%w (%s) and %w (the pinned download is onnxruntime %s)", ErrRuntimeNotFound, found, ErrOffline, pin.Version)
	}
	if err := pin.platformOK(); err != nil {
		return Library{}, fmt.Errorf("%w (%s): %v", ErrRuntimeNotFound, found, err)
	}
	if err := pin.download(ctx, o.baseURL(), cached, o.Progress); err != nil {
		return Library{}, err
	}
	v, err := checkLibrary(cached)
	if err != nil {
		return Library{}, fmt.Errorf("downloaded onnxruntime %s: %w", cached, err)
	}
	return Library{cached, v, SourceDownload}, nil
}

// libraryIn accepts a folder for an explicit library (a release's lib/
// folder) and picks the library inside it.
func libraryIn(path string) string {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return path
	}
	for _, name := range []string{"libonnxruntime.so", "libonnxruntime.so.1", "libonnxruntime.dylib"} {
		if _, err := os.Stat(filepath.Join(path, name)); err == nil {
			return filepath.Join(path, name)
		}
	}
	return filepath.Join(path, "libonnxruntime.so")
}

func (o RuntimeOptions) pin() *Pin {
	if o.Pin != nil {
		return o.Pin
	}
	return &DefaultPin
}

func (o RuntimeOptions) cacheDir() (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("onnxruntime cache: %w", err)
	}
	return filepath.Join(d, "embedsearch"), nil
}

func (o RuntimeOptions) baseURL() string {
	if o.BaseURL != "" {
		return strings.TrimRight(o.BaseURL, "/")
	}
	return DefaultBaseURL
}

// checkLibrary opens the library to read its version and refuses versions
// older than MinVersion.
func checkLibrary(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	v, hasAPI, err := probeLibrary(path)
	if err != nil {
		return "", err
	}
	if !versionAtLeast(v, MinVersion) || !hasAPI {
		return v, fmt.Errorf("%w: version %s, need >= %s (C API %d)", ErrRuntimeVersion, v, MinVersion, apiVersion)
	}
	return v, nil
}

// versionAtLeast compares dotted numeric versions ("1.24.3" >= "1.24.0").
func versionAtLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := 0; i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(strings.TrimFunc(a[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		y, _ = strconv.Atoi(b[i])
		if x != y {
			return x > y
		}
	}
	return true
}

// systemCandidates lists libonnxruntime files the system offers: the
// directories of LD_LIBRARY_PATH (DYLD_LIBRARY_PATH on macOS), the loader
// cache (ldconfig -p, Linux) and the usual library directories (libname_*.go),
// without duplicates.
func systemCandidates() []string {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv(libraryPathEnv)) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		r, err := filepath.EvalSymlinks(p)
		if err != nil || seen[r] {
			return
		}
		seen[r] = true
		out = append(out, p)
	}
	scan := func(dir string) {
		matches, _ := filepath.Glob(filepath.Join(dir, libraryGlob))
		sort.Strings(matches) // .so before .so.1 before .so.1.24.3
		for _, m := range matches {
			add(m)
		}
	}
	for _, d := range dirs {
		scan(d)
	}
	for _, p := range ldconfigLibraries() {
		add(p)
	}
	for _, d := range systemLibDirs {
		scan(d)
	}
	return out
}

// ldconfigLibraries asks the loader cache for libonnxruntime entries.
func ldconfigLibraries() []string {
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		ldconfig = "/sbin/ldconfig"
	}
	b, err := exec.Command(ldconfig, "-p").Output()
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "libonnxruntime.so") {
			continue
		}
		if i := strings.LastIndex(line, "=> "); i >= 0 {
			out = append(out, strings.TrimSpace(line[i+3:]))
		}
	}
	return out
}
