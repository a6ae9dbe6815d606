//go:build cgo

package preprocess

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The few TurboJPEG entry points used here (libjpeg-turbo's turbojpeg.h,
// API 2.x), declared by hand so that building needs no JPEG headers: the
// library is opened at run time, and a machine without it decodes with
// Go's image/jpeg.
typedef void *tjhandle;
typedef tjhandle (*tjInitFn)(void);
typedef int (*tjHeaderFn)(tjhandle, const unsigned char *, unsigned long, int *, int *, int *, int *);
typedef int (*tjDecompressFn)(tjhandle, const unsigned char *, unsigned long, unsigned char *, int, int, int, int, int);
typedef char *(*tjErrStrFn)(tjhandle);
typedef int (*tjDestroyFn)(tjhandle);

typedef struct {
	tjInitFn init;
	tjHeaderFn header;
	tjDecompressFn decompress;
	tjErrStrFn errstr;
	tjDestroyFn destroy;
} es_tj;

// es_tj_open loads the library at name and fills t. On failure it returns
// -1 and a static or loader-owned message in *err.
static int es_tj_open(const char *name, es_tj *t, char *path, size_t n, const char **err) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h) { *err = dlerror(); return -1; }
	t->init = (tjInitFn)dlsym(h, "tjInitDecompress");
	t->header = (tjHeaderFn)dlsym(h, "tjDecompressHeader3");
	t->decompress = (tjDecompressFn)dlsym(h, "tjDecompress2");
	t->errstr = (tjErrStrFn)dlsym(h, "tjGetErrorStr2");
	t->destroy = (tjDestroyFn)dlsym(h, "tjDestroy");
	if (!t->init || !t->header || !t->decompress || !t->errstr || !t->destroy) {
		*err = "not a TurboJPEG 2.x library (tjDecompress2, tjGetErrorStr2... missing)";
		dlclose(h);
		return -1;
	}
	Dl_info info;
	path[0] = 0;
	if (dladdr((void *)t->decompress, &info) && info.dli_fname) {
		strncpy(path, info.dli_fname, n - 1);
		path[n - 1] = 0;
	}
	return 0; // the library stays loaded for the life of the process
}

enum { TJPF_RGBA = 7, TJCS_CMYK = 3, TJCS_YCCK = 4 };
enum { TJFLAG_STOPONWARNING = 8192, TJFLAG_LIMITSCANS = 32768 };

// es_tj_header reads the JPEG's size and colour space.
static int es_tj_header(const es_tj *t, const unsigned char *buf, unsigned long len, int *w, int *h, int *cs, char *msg, size_t n) {
	tjhandle j = t->init();
	if (!j) { snprintf(msg, n, "cannot create a decompressor"); return -1; }
	int subsamp;
	int rc = t->header(j, buf, len, w, h, &subsamp, cs);
	if (rc != 0) {
		strncpy(msg, t->errstr(j), n - 1);
		msg[n - 1] = 0;
	}
	t->destroy(j);
	return rc;
}

// es_tj_decode decodes buf into dst as RGBA (alpha 255), w×h being the
// size at the wanted scale: libjpeg picks the largest of its scaling
// factors that fits, which is exactly 1/denom when w and h are the image's
// size divided by denom and rounded up. Any warning (a truncated or
// damaged file) stops it and counts as a failure.
static int es_tj_decode(const es_tj *t, const unsigned char *buf, unsigned long len, unsigned char *dst, int w, int h, char *msg, size_t n) {
	tjhandle j = t->init();
	if (!j) { snprintf(msg, n, "cannot create a decompressor"); return -1; }
	int rc = t->decompress(j, buf, len, dst, w, w * 4, h, TJPF_RGBA, TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS);
	if (rc != 0) {
		strncpy(msg, t->errstr(j), n - 1);
		msg[n - 1] = 0;
	}
	t->destroy(j);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"image"
	"unsafe"
)

type turboLib struct {
	fns  C.es_tj
	path string
}

func openTurbo(name string) (*turboLib, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	t := &turboLib{}
	var path [512]C.char
	var cerr *C.char
	if C.es_tj_open(cname, &t.fns, &path[0], C.size_t(len(path)), &cerr) != 0 {
		return nil, fmt.Errorf("%s: %s", name, C.GoString(cerr))
	}
	t.path = C.GoString(&path[0])
	if t.path == "" {
		t.path = name
	}
	return t, nil
}

// decode decodes a JPEG at 1/denom scale (1, 2, 4 or 8) in the DCT domain
// into an opaque RGBA image, with libjpeg's default settings (accurate
// integer IDCT, "fancy" chroma upsampling): PIL's pixels exactly, also
// for the scaled sizes, which are PIL's draft(). The caller has checked
// the pixel cap against the header.
func (t *turboLib) decode(data []byte, denom int) (*image.RGBA, error) {
	if len(data) == 0 {
		return nil, errTurboSkip
	}
	var msg [200]C.char
	var w, h, cs C.int
	src := (*C.uchar)(unsafe.Pointer(&data[0]))
	if C.es_tj_header(&t.fns, src, C.ulong(len(data)), &w, &h, &cs, &msg[0], C.size_t(len(msg))) != 0 {
		return nil, errTurboSkip
	}
	if cs == C.TJCS_CMYK || cs == C.TJCS_YCCK || w <= 0 || h <= 0 {
		return nil, errTurboSkip // CMYK is converted as PIL does by toRGBA
	}
	sw, sh := (int(w)+denom-1)/denom, (int(h)+denom-1)/denom
	m := image.NewRGBA(image.Rect(0, 0, sw, sh))
	if C.es_tj_decode(&t.fns, src, C.ulong(len(data)), (*C.uchar)(unsafe.Pointer(&m.Pix[0])), C.int(sw), C.int(sh), &msg[0], C.size_t(len(msg))) != 0 {
		return nil, errTurboSkip
	}
	return m, nil
}
