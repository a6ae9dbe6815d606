//go:build cgo

package preprocess

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// libheif is opened at run time, as onnxruntime is, so that building needs
// no libheif headers and a machine without it still runs (HEIC and AVIF
// then fail with a reason). These mirror the few declarations of
// libheif/heif.h (1.x) that are used; enums are passed as int.
typedef struct { int code; int subcode; const char *message; } hf_error;

// The stable prefix of struct heif_decoding_options; the struct itself is
// allocated by the library (heif_decoding_options_alloc) and may be larger.
typedef struct {
	uint8_t version;
	uint8_t ignore_transformations;
	void *start_progress, *on_progress, *end_progress, *progress_user_data;
	uint8_t convert_hdr_to_8bit; // version 2
} hf_options;

enum { hf_colorspace_RGB = 1, hf_chroma_interleaved_RGBA = 11, hf_channel_interleaved = 10 };

static struct {
	const char *(*get_version)(void);
	void *(*context_alloc)(void);
	void (*context_free)(void *);
	hf_error (*read_from_memory_without_copy)(void *, const void *, size_t, const void *);
	hf_error (*get_primary_image_handle)(void *, void **);
	void (*handle_release)(const void *);
	int (*handle_get_width)(const void *);
	int (*handle_get_height)(const void *);
	int (*handle_has_alpha)(const void *);
	int (*number_of_thumbnails)(const void *);
	int (*thumbnail_ids)(const void *, uint32_t *, int);
	hf_error (*get_thumbnail)(const void *, uint32_t, void **);
	int (*metadata_ids)(const void *, const char *, uint32_t *, int);
	size_t (*metadata_size)(const void *, uint32_t);
	hf_error (*get_metadata)(const void *, uint32_t, void *);
	hf_options *(*options_alloc)(void);
	void (*options_free)(hf_options *);
	hf_error (*decode_image)(const void *, void **, int, int, const hf_options *);
	const uint8_t *(*plane_readonly)(const void *, int, int *);
	int (*image_get_width)(const void *, int);
	int (*image_get_height)(const void *, int);
	void (*image_release)(const void *);
} hf;

// hf_load opens the library at path and resolves every function; on
// failure it returns the missing symbol or dlerror's text.
static const char *hf_load(const char *path) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) return dlerror();
#define SYM(field, name) if (!(*(void **)&hf.field = dlsym(h, name))) { dlclose(h); memset(&hf, 0, sizeof hf); return "missing symbol " name; }
	SYM(get_version, "heif_get_version")
	SYM(context_alloc, "heif_context_alloc")
	SYM(context_free, "heif_context_free")
	SYM(read_from_memory_without_copy, "heif_context_read_from_memory_without_copy")
	SYM(get_primary_image_handle, "heif_context_get_primary_image_handle")
	SYM(handle_release, "heif_image_handle_release")
	SYM(handle_get_width, "heif_image_handle_get_width")
	SYM(handle_get_height, "heif_image_handle_get_height")
	SYM(handle_has_alpha, "heif_image_handle_has_alpha_channel")
	SYM(number_of_thumbnails, "heif_image_handle_get_number_of_thumbnails")
	SYM(thumbnail_ids, "heif_image_handle_get_list_of_thumbnail_IDs")
	SYM(get_thumbnail, "heif_image_handle_get_thumbnail")
	SYM(metadata_ids, "heif_image_handle_get_list_of_metadata_block_IDs")
	SYM(metadata_size, "heif_image_handle_get_metadata_size")
	SYM(get_metadata, "heif_image_handle_get_metadata")
	SYM(options_alloc, "heif_decoding_options_alloc")
	SYM(options_free, "heif_decoding_options_free")
	SYM(decode_image, "heif_decode_image")
	SYM(plane_readonly, "heif_image_get_plane_readonly")
	SYM(image_get_width, "heif_image_get_width")
	SYM(image_get_height, "heif_image_get_height")
	SYM(image_release, "heif_image_release")
#undef SYM
	// Registers the built-in decoders (optional before libheif 1.14).
	hf_error (*init)(void *) = (hf_error (*)(void *))dlsym(h, "heif_init");
	if (init) init(NULL);
	return NULL;
}

static const char *hf_version(void) { return hf.get_version(); }

// The file's bytes are copied into C memory (data) for the context's life:
// libheif reads them lazily.
typedef struct {
	void *ctx, *primary, *data;
	int width, height; // as displayed (irot/imir applied)
} hf_file;

static void hf_close(hf_file *f) {
	if (f->primary) hf.handle_release(f->primary);
	if (f->ctx) hf.context_free(f->ctx);
	free(f->data);
	memset(f, 0, sizeof *f);
}

static const char *hf_open(hf_file *f, const void *buf, size_t len) {
	memset(f, 0, sizeof *f);
	f->data = malloc(len ? len : 1);
	if (!f->data) return "out of memory";
	memcpy(f->data, buf, len);
	f->ctx = hf.context_alloc();
	if (!f->ctx) return "out of memory";
	hf_error e = hf.read_from_memory_without_copy(f->ctx, f->data, len, NULL);
	if (e.code) return e.message;
	e = hf.get_primary_image_handle(f->ctx, &f->primary);
	if (e.code) return e.message;
	f->width = hf.handle_get_width(f->primary);
	f->height = hf.handle_get_height(f->primary);
	return NULL;
}

// hf_thumbnail returns the handle of thumbnail i (released by the caller)
// and its displayed size.
static void *hf_thumbnail(hf_file *f, int i, int *w, int *h) {
	uint32_t ids[16];
	int n = hf.thumbnail_ids(f->primary, ids, 16);
	void *t = NULL;
	if (i >= n || hf.get_thumbnail(f->primary, ids[i], &t).code) return NULL;
	*w = hf.handle_get_width(t);
	*h = hf.handle_get_height(t);
	return t;
}

static int hf_thumbnails(hf_file *f) {
	int n = hf.number_of_thumbnails(f->primary);
	return n > 16 ? 16 : n;
}

static void hf_release_handle(void *h) { hf.handle_release(h); }

// hf_exif copies the first Exif block of the primary image into a malloc'd
// buffer (NULL when there is none).
static void *hf_exif(hf_file *f, size_t *n) {
	uint32_t id;
	*n = 0;
	if (hf.metadata_ids(f->primary, "Exif", &id, 1) < 1) return NULL;
	size_t size = hf.metadata_size(f->primary, id);
	if (size == 0 || size > (64 << 20)) return NULL;
	void *b = malloc(size);
	if (b && hf.get_metadata(f->primary, id, b).code) { free(b); return NULL; }
	*n = size;
	return b;
}

// hf_decode decodes the image of handle h (irot, imir and clap applied)
// to 8-bit interleaved RGBA. The caller releases *img with hf_release.
static const char *hf_decode(void *h, void **img, const uint8_t **pix, int *stride, int *w, int *hgt, int *alpha) {
	hf_options *o = hf.options_alloc();
	if (o && o->version >= 2) o->convert_hdr_to_8bit = 1;
	hf_error e = hf.decode_image(h, img, hf_colorspace_RGB, hf_chroma_interleaved_RGBA, o);
	if (o) hf.options_free(o);
	if (e.code) return e.message;
	*pix = hf.plane_readonly(*img, hf_channel_interleaved, stride);
	*w = hf.image_get_width(*img, hf_channel_interleaved);
	*hgt = hf.image_get_height(*img, hf_channel_interleaved);
	*alpha = hf.handle_has_alpha(h);
	if (!*pix) return "no interleaved plane";
	return NULL;
}

static void hf_release(void *img) { hf.image_release(img); }
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"os"
	"sync"
	"unsafe"
)

// libheifNames are tried in order when LibheifEnv is not set.
var libheifNames = []string{"libheif.so.1", "libheif.1.dylib", "libheif.so"}

var libheif = sync.OnceValues(func() (string, error) {
	names := libheifNames
	if p := os.Getenv(LibheifEnv); p != "" {
		names = []string{p}
	}
	var why []string
	for _, name := range names {
		cs := C.CString(name)
		msg := C.hf_load(cs)
		C.free(unsafe.Pointer(cs))
		if msg == nil {
			return "libheif " + C.GoString(C.hf_version()), nil
		}
		why = append(why, C.GoString(msg))
	}
	return "", fmt.Errorf("%w (%s)", ErrNoLibheif, why[len(why)-1])
})

// HEIFDecoder names the decoder of HEIC and AVIF images ("libheif 1.15.1"),
// or says why there is none (ErrNoLibheif).
func HEIFDecoder() (string, error) { return libheif() }

// thumbnailMargin is how many times the resample target a HEIF thumbnail
// must be, on both sides, to be decoded instead of the primary image.
const thumbnailMargin = 4

// decodeHEIF decodes the primary image of a HEIF or AVIF file with its
// irot, imir and clap transforms applied, as libheif does by default. The
// EXIF orientation is not applied: a HEIF file's transforms are its
// properties, and the EXIF tag (an iPhone writes both) only repeats them.
// With a target, where the manifest allows reduced-scale decoding (as for
// JPEG's draft), the smallest embedded thumbnail of the primary image's
// shape that is at least thumbnailMargin times the target on both sides is
// decoded instead (Info keeps the primary image's size).
func decodeHEIF(data []byte, format string, lim Limits, tgt target) (*image.RGBA, Info, error) {
	info := Info{Format: format}
	name := heifName(format)
	if _, err := libheif(); err != nil {
		return nil, info, fmt.Errorf("%w: %s: %w", ErrUnsupported, name, err)
	}
	var f C.hf_file
	defer C.hf_close(&f)
	if msg := C.hf_open(&f, unsafe.Pointer(unsafe.SliceData(data)), C.size_t(len(data))); msg != nil {
		return nil, info, fmt.Errorf("%w: %s: %s", ErrCorrupt, name, C.GoString(msg))
	}
	w, h := int(f.width), int(f.height)
	if err := checkPixels(w, h, lim); err != nil {
		return nil, info, err
	}
	info.Width, info.Height = w, h
	var n C.size_t
	if ex := C.hf_exif(&f, &n); ex != nil {
		b := C.GoBytes(ex, C.int(n))
		C.free(ex)
		// The block starts with the offset of the TIFF header after it.
		if len(b) >= 4 {
			if off := binary.BigEndian.Uint32(b); int64(off) <= int64(len(b)-4) {
				ex := parseEXIF(b[4+off:])
				info.Taken, info.Make, info.Model, info.GPS = ex.Taken, ex.Make, ex.Model, ex.GPS
			}
		}
	}

	handle := f.primary
	if tgt != nil && lim.jpegDraft { // reduced-scale decoding, under the permission JPEG's draft() has
		ow, oh := tgt(w, h)
		best := 0
		for i := range int(C.hf_thumbnails(&f)) {
			var tw, th C.int
			t := C.hf_thumbnail(&f, C.int(i), &tw, &th)
			if t == nil {
				continue
			}
			ok := int(tw) >= thumbnailMargin*ow && int(th) >= thumbnailMargin*oh &&
				math.Abs(float64(tw)*float64(h)-float64(th)*float64(w)) <= float64(max(w, h)) &&
				(best == 0 || int(tw)*int(th) < best)
			if !ok {
				C.hf_release_handle(t)
				continue
			}
			if handle != f.primary {
				C.hf_release_handle(handle)
			}
			handle, best = t, int(tw)*int(th)
		}
		if handle != f.primary {
			defer C.hf_release_handle(handle)
		}
	}

	var img unsafe.Pointer
	var pix *C.uint8_t
	var stride, iw, ih, alpha C.int
	msg := C.hf_decode(handle, &img, &pix, &stride, &iw, &ih, &alpha)
	if img != nil {
		defer C.hf_release(img)
	}
	if msg != nil {
		return nil, info, fmt.Errorf("%w: %s: %s", ErrCorrupt, name, C.GoString(msg))
	}
	if iw <= 0 || ih <= 0 || stride < 4*iw {
		return nil, info, fmt.Errorf("%w: %s: decoded %dx%d", ErrCorrupt, name, iw, ih)
	}
	m := image.NewRGBA(image.Rect(0, 0, int(iw), int(ih)))
	src := unsafe.Slice((*byte)(unsafe.Pointer(pix)), int(stride)*(int(ih)-1)+4*int(iw))
	for y := range int(ih) {
		row := m.Pix[y*m.Stride : y*m.Stride+4*int(iw)]
		copy(row, src[y*int(stride):])
		if alpha != 0 {
			for i := 3; i < len(row); i += 4 {
				row[i] = 0xff // alpha dropped, colour kept, as convert("RGB")
			}
		}
	}
	return m, info, nil
}
