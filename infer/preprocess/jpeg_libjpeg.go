//go:build libjpeg

package preprocess

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jmp;
	int truncated;
} es_err;

static void es_error_exit(j_common_ptr cinfo) {
	longjmp(((es_err *)cinfo->err)->jmp, 1);
}

// Warnings do not stop the decoder (as in PIL); running out of data does.
static void es_emit_message(j_common_ptr cinfo, int level) {
	if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
		((es_err *)cinfo->err)->truncated = 1;
	}
}

typedef struct {
	int width, height, components;
	unsigned char *pix;
	int truncated;
	char msg[JMSG_LENGTH_MAX];
} es_result;

// es_decode decodes a JPEG held in memory, scaled by 1/scale_denom in the
// DCT domain, to RGB, grey or (Adobe-inverted) CMYK samples in a malloc'd
// buffer that the caller frees.
static int es_decode(const unsigned char *buf, unsigned long len, int scale_denom, long long max_pixels, es_result *r) {
	struct jpeg_decompress_struct cinfo;
	es_err jerr;
	unsigned char *volatile pix = NULL;
	memset(r, 0, sizeof *r);
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = es_error_exit;
	jerr.pub.emit_message = es_emit_message;
	jerr.truncated = 0;
	if (setjmp(jerr.jmp)) {
		(*cinfo.err->format_message)((j_common_ptr)&cinfo, r->msg);
		jpeg_destroy_decompress(&cinfo);
		free(pix);
		return -1;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, buf, len);
	jpeg_read_header(&cinfo, TRUE);
	if ((long long)cinfo.image_width * (long long)cinfo.image_height > max_pixels) {
		snprintf(r->msg, sizeof r->msg, "too large");
		jpeg_destroy_decompress(&cinfo);
		return -2;
	}
	switch (cinfo.jpeg_color_space) {
	case JCS_GRAYSCALE:
		cinfo.out_color_space = JCS_GRAYSCALE;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		cinfo.out_color_space = JCS_CMYK;
		break;
	default:
		cinfo.out_color_space = JCS_RGB;
	}
	cinfo.scale_num = 1;
	cinfo.scale_denom = scale_denom;
	jpeg_start_decompress(&cinfo);
	size_t stride = (size_t)cinfo.output_width * cinfo.output_components;
	pix = malloc(stride * cinfo.output_height);
	if (pix == NULL) {
		snprintf(r->msg, sizeof r->msg, "out of memory");
		jpeg_destroy_decompress(&cinfo);
		return -1;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = pix + stride * cinfo.output_scanline;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	r->width = cinfo.output_width;
	r->height = cinfo.output_height;
	r->components = cinfo.output_components;
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	r->truncated = jerr.truncated;
	r->pix = pix;
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// decodeJPEGLib decodes a JPEG with libjpeg(-turbo), the library PIL uses,
// scaled by 1/denom (1, 2, 4 or 8) in the DCT domain.
func decodeJPEGLib(data []byte, denom int, lim Limits) (*image.RGBA, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: jpeg: empty", ErrCorrupt)
	}
	var r C.es_result
	rc := C.es_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(denom), C.longlong(lim.maxPixels()), &r)
	switch rc {
	case 0:
	case -2:
		return nil, fmt.Errorf("%w: jpeg", ErrTooLarge)
	default:
		return nil, fmt.Errorf("%w: jpeg: %s", ErrCorrupt, C.GoString(&r.msg[0]))
	}
	defer C.free(unsafe.Pointer(r.pix))
	if r.truncated != 0 {
		return nil, fmt.Errorf("%w: jpeg: truncated file", ErrCorrupt)
	}
	w, h, nc := int(r.width), int(r.height), int(r.components)
	src := unsafe.Slice((*byte)(unsafe.Pointer(r.pix)), w*h*nc)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	d := dst.Pix
	switch nc {
	case 3:
		for i, j := 0, 0; i < len(src); i, j = i+3, j+4 {
			d[j], d[j+1], d[j+2], d[j+3] = src[i], src[i+1], src[i+2], 255
		}
	case 1:
		for i, j := 0, 0; i < len(src); i, j = i+1, j+4 {
			v := src[i]
			d[j], d[j+1], d[j+2], d[j+3] = v, v, v, 255
		}
	case 4:
		// PIL reads CMYK JPEGs as Adobe-inverted ("CMYK;I").
		for i := 0; i < len(src); i += 4 {
			c, m, y, k := 255-int(src[i]), 255-int(src[i+1]), 255-int(src[i+2]), 255-int(src[i+3])
			nk := 255 - k
			d[i] = clip8i(nk - muldiv255(c, nk))
			d[i+1] = clip8i(nk - muldiv255(m, nk))
			d[i+2] = clip8i(nk - muldiv255(y, nk))
			d[i+3] = 255
		}
	default:
		return nil, errors.New("jpeg: unexpected component count")
	}
	return dst, nil
}
