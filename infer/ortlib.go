//go:build cgo

package infer

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <stdint.h>

// The onnxruntime C API is a table of function pointers (OrtApi) reached
// through OrtGetApiBase. The table only ever grows at its end, so an entry's
// position is fixed for every version that has it. We need three entries
// the Go binding does not wrap; their positions were read from
// onnxruntime_c_api.h (API 24) with offsetof(OrtApi, X)/sizeof(void*).
enum {
	api_GetErrorMessage = 2,
	api_ReleaseStatus = 93,
	api_GetAvailableProviders = 125,
	api_ReleaseAvailableProviders = 126,
};

typedef struct {
	const void *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} apiBase;

typedef const apiBase *(*getApiBaseFn)(void);
typedef void *status;
typedef status (*getProvidersFn)(char ***out, int *n);
typedef status (*releaseProvidersFn)(char **ptr, int n);
typedef const char *(*errorMessageFn)(const status);
typedef void (*releaseStatusFn)(status);

// probe opens the library at path, copies its version string into version
// and reports whether it offers C API apiVersion. Returns 0 on success,
// 1 when dlopen fails, 2 when OrtGetApiBase is missing.
static int probe(const char *path, uint32_t apiVersion, char *version, size_t n, int *hasApi, char **err) {
	void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (!h) { *err = dlerror(); return 1; }
	getApiBaseFn f = (getApiBaseFn)dlsym(h, "OrtGetApiBase");
	if (!f) { *err = dlerror(); dlclose(h); return 2; }
	const apiBase *b = f();
	const char *v = b->GetVersionString();
	size_t i = 0;
	for (; v && v[i] && i + 1 < n; i++) version[i] = v[i];
	version[i] = 0;
	*hasApi = b->GetApi(apiVersion) != NULL;
	dlclose(h);
	return 0;
}

// providers lists the execution providers compiled into the library at
// path. On failure it returns NULL and sets *err (static or ORT-owned
// strings copied by the caller before the next call).
static char **providers(const char *path, uint32_t apiVersion, int *n, char **err, void **handle) {
	void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (!h) { *err = dlerror(); return NULL; }
	getApiBaseFn f = (getApiBaseFn)dlsym(h, "OrtGetApiBase");
	if (!f) { *err = dlerror(); dlclose(h); return NULL; }
	void *const *api = (void *const *)f()->GetApi(apiVersion);
	if (!api) { *err = "C API version not offered"; dlclose(h); return NULL; }
	char **out = NULL;
	status st = ((getProvidersFn)api[api_GetAvailableProviders])(&out, n);
	if (st) {
		*err = (char *)((errorMessageFn)api[api_GetErrorMessage])(st);
		// The message belongs to st; leak both rather than copy: this runs once.
		dlclose(h);
		return NULL;
	}
	*handle = h;
	return out;
}

static void releaseProviders(void *handle, uint32_t apiVersion, char **p, int n) {
	getApiBaseFn f = (getApiBaseFn)dlsym(handle, "OrtGetApiBase");
	void *const *api = (void *const *)f()->GetApi(apiVersion);
	status st = ((releaseProvidersFn)api[api_ReleaseAvailableProviders])(p, n);
	if (st) ((releaseStatusFn)api[api_ReleaseStatus])(st);
	dlclose(handle);
}

static char *nth(char **p, int i) { return p[i]; }

// canOpen reports whether the dynamic loader can load name (a soname or a
// path) with all of its dependencies.
static int canOpen(const char *name, char **err) {
	void *h = dlopen(name, RTLD_LAZY | RTLD_LOCAL);
	if (!h) { *err = dlerror(); return 0; }
	dlclose(h);
	return 1;
}

typedef int (*cuInitFn)(unsigned int);
typedef int (*cuDeviceGetCountFn)(int *);

// cudaDevices asks the CUDA driver how many devices it sees. Returns -1 when
// the driver library is missing, -2 when cuInit fails (code in *code).
static int cudaDevices(int *code, char **err) {
	void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
	if (!h) { *err = dlerror(); return -1; }
	cuInitFn init = (cuInitFn)dlsym(h, "cuInit");
	cuDeviceGetCountFn count = (cuDeviceGetCountFn)dlsym(h, "cuDeviceGetCount");
	if (!init || !count) { *err = "libcuda.so.1 lacks cuInit/cuDeviceGetCount"; dlclose(h); return -1; }
	int rc = init(0);
	if (rc != 0) { *code = rc; return -2; }
	int n = 0;
	rc = count(&n);
	if (rc != 0) { *code = rc; return -2; }
	return n; // the driver stays loaded: onnxruntime will want it again
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// probeLibrary opens the library at path just long enough to read its
// version and check that it offers apiVersion.
func probeLibrary(path string) (version string, hasAPI bool, err error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var buf [64]C.char
	var has C.int
	var cerr *C.char
	switch C.probe(cpath, apiVersion, &buf[0], C.size_t(len(buf)), &has, &cerr) {
	case 0:
		return C.GoString(&buf[0]), has != 0, nil
	case 2:
		return "", false, fmt.Errorf("not an onnxruntime library: %s", C.GoString(cerr))
	default:
		return "", false, fmt.Errorf("cannot load: %s", C.GoString(cerr))
	}
}

// libraryProviders lists the execution providers built into the library.
func libraryProviders(path string) ([]string, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var n C.int
	var cerr *C.char
	var h unsafe.Pointer
	p := C.providers(cpath, apiVersion, &n, &cerr, &h)
	if p == nil {
		return nil, fmt.Errorf("list providers: %s", C.GoString(cerr))
	}
	out := make([]string, int(n))
	for i := range out {
		out[i] = C.GoString(C.nth(p, C.int(i)))
	}
	C.releaseProviders(h, apiVersion, p, n)
	return out, nil
}

// canLoad reports whether the dynamic loader finds name and its
// dependencies; the error is the loader's message.
func canLoad(name string) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var cerr *C.char
	if C.canOpen(cname, &cerr) == 0 {
		return fmt.Errorf("%s", C.GoString(cerr))
	}
	return nil
}

// cudaDeviceCount returns the number of CUDA devices the driver sees.
func cudaDeviceCount() (int, error) {
	var code C.int
	var cerr *C.char
	n := int(C.cudaDevices(&code, &cerr))
	switch n {
	case -1:
		return 0, fmt.Errorf("no CUDA driver (libcuda.so.1): %s", C.GoString(cerr))
	case -2:
		if code == 100 { // CUDA_ERROR_NO_DEVICE
			return 0, nil
		}
		return 0, fmt.Errorf("CUDA driver initialisation failed (CUresult %d)", int(code))
	}
	return n, nil
}
