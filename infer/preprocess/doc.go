// Package preprocess decodes image files and turns them into model input
// tensors the way the model's manifest prescribes, matching what a model
// trained with PIL and torchvision sees.
//
// # Vocabulary
//
//   - Decode: bytes → an opaque RGB image (*image.RGBA, alpha 255) as
//     displayed, i.e. with the EXIF orientation applied, plus Info.
//   - Preprocess (models.Preprocess): resize mode, interpolation, crop,
//     rescale, mean and std.
//   - Tensor: 3×H×W float32 values in NCHW order (one image, N=1), H×W
//     being the manifest's Crop; Preparer.TensorLen() values.
//   - Preparer: one Preprocess block compiled for repeated use.
//
// # Decoding
//
// The format is sniffed from the bytes, never from the file name: JPEG
// (baseline, progressive, greyscale, Adobe CMYK/YCCK), PNG (1–16 bit,
// palette, grey, alpha, interlaced), GIF (first frame only), BMP
// (uncompressed 1/4/8/24/32-bit; 32-bit also with any bit-field masks,
// V4/V5 headers and a gap before the pixels, read by bmp.go), TIFF (first image; none, LZW, deflate,
// PackBits, CCITT) and WebP (lossy, lossless, with alpha; still images
// only). HEIF/HEIC and AVIF go through libheif, opened at run time
// (heif.go: without it they fail with ErrUnsupported and ErrNoLibheif);
// camera RAWs through their largest embedded JPEG preview, oriented by the
// RAW's own tag (raw.go). Recognised formats without a decoder here
// (BigTIFF, PSD, JPEG 2000, JPEG XL, …), animated WebP and unsupported variants of
// the formats above (e.g. RLE or 16-bit BMP, 12-bit or Lab TIFF) fail with
// ErrUnsupported; malformed or truncated files with ErrCorrupt. Each error
// carries a short reason. A panic inside a decoder is recovered and
// reported as ErrCorrupt, so one bad file never stops a batch.
//
// Colour follows PIL's convert("RGB"):
//   - Alpha is dropped, not composited: a transparent pixel keeps its
//     stored colour (as PIL does), so there is no background colour.
//   - 16-bit samples keep their high byte. For 16-bit greyscale this
//     deliberately differs from PIL, which clips such images to white.
//   - CMYK uses PIL's formula (JPEG CMYK is read Adobe-inverted).
//   - Without libjpeg-turbo, JPEG chroma is upsampled like libjpeg's
//     default ("fancy") upsampling; lossy WebP uses libwebp's limited-range
//     YUV conversion and bilinear chroma. Remaining differences from PIL
//     are IDCT rounding (within 3/255).
//   - Embedded ICC profiles are ignored: pixels are taken as sRGB, as PIL's
//     convert("RGB") does.
//   - Transparent GIF pixels come out black (the Go decoder zeroes the
//     transparent palette entry), where PIL shows the entry's colour.
//
// JPEGs are decoded by libjpeg-turbo when its TurboJPEG library
// (libturbojpeg.so.0) can be loaded at run time, else by Go's image/jpeg
// (UseJPEGLibrary chooses, JPEGDecoder says which). libjpeg-turbo is the
// library PIL decodes with: its pixels are PIL's exactly, and it can decode
// at 1/2, 1/4 or 1/8 scale in the DCT domain, as PIL's draft() does. Adobe
// CMYK/YCCK files, and any file it warns about (truncated, damaged) or
// refuses, go to image/jpeg, so that damaged files fail, or are read,
// exactly as without the library.
//
// EXIF is read by a small bounds-checked parser of our own (fuzzed) from
// the places PIL's getexif() reads: JPEG APP1, the PNG eXIf chunk (or
// ImageMagick's "Raw profile type exif" text chunk, and for the orientation
// alone an XMP tiff:Orientation), the WebP EXIF chunk and a TIFF's own
// first IFD. It yields Orientation (all 8 values, applied as PIL's
// ImageOps.exif_transpose does; other values are ignored), DateTimeOriginal
// (with OffsetTimeOriginal when present, else in UTC), Make, Model and the
// GPS position. Malformed EXIF is ignored, never an error. One deliberate
// difference: PIL 9.4 applies a TIFF's orientation twice (its TIFF loader,
// then exif_transpose); we apply it once.
//
// # Limits
//
// The pixel count declared by the header (and, for GIF, the first frame's
// extent) is checked against Limits.MaxPixels before any pixel is decoded;
// larger images fail with ErrTooLarge, naming the size and the limit.
// Decoders allocate in proportion to the declared size (the TIFF decoder
// also caps each decompressed block), so the memory
// one image takes is bounded by its pixel count. libjpeg-turbo decodes
// into RGBA, 4 bytes per pixel (48 MB for a 12-megapixel photo at full
// size, a 64th of that at 1/8 scale). Without it, Preparer.Bytes keeps a
// JPEG (without a 90° orientation) in the decoder's YCbCr planes, 1.5–3
// bytes per pixel, and converts rows as the resampler reads them: about
// 20 MB for a 12-megapixel photo; a 32-bit BMP's rows are converted
// straight from the file's bytes. Other images get a full RGBA copy (4
// bytes per pixel, 8 while rotating) beside the decoder's own (1–8 bytes
// per pixel): at most about 16 bytes per pixel, 2 GB at the default cap of
// 128 megapixels for a 16-bit RGBA PNG.
//
// # Preprocessing
//
// Resize modes, with PIL's antialiased bicubic (a=-0.5) or bilinear
// filters, ported step by step from Pillow's Resample.c (support scaled by
// the downscale factor, 22-bit fixed-point coefficients, horizontal pass
// rounded to 8 bits, then vertical), so results are PIL's bit for bit:
//   - shortest_crop: torchvision Resize(Size) (shorter side → Size, longer
//     int(Size·long/short)) then CenterCrop(Crop) with its rounding
//     (round half to even of the offset); only the cropped window is
//     computed.
//   - squash: resize to exactly Crop, ignoring the aspect ratio.
//   - pad: fit inside Crop keeping the aspect ratio (the free side is
//     rounded half up, at least 1 pixel), centred (offsets rounded down),
//     the rest filled with PadColor.
//
// Two steps a manifest may declare (models.Preprocess), each PIL's own:
//   - jpeg_draft: a JPEG is decoded as after Image.draft("RGB", (4·W,
//     4·H)), W×H being the resize step's size: at 1/8, 1/4 or 1/2 scale
//     when that leaves at least 4 times W×H (the rule of draft(), floor
//     division included). Without libjpeg-turbo, the full decode is
//     box-filtered by the same factor instead: close, not exact.
//   - reducing_gap: Image.resize(..., reducing_gap=g): a box filter by
//     integer factors first (Image.reduce, Reduce.c's rounding), then the
//     filter over a fractional box of the reduced image.
//
// Then x·Rescale, (x−Mean)/Std per channel, written as NCHW float32.
// testdata/gen_reference.py (and gen_bmp_reference.py, for 32-bit BMPs)
// makes the PIL reference pixels the tests compare against.
//
// # Concurrency
//
// Decode is a pure function and Preparer is immutable after NewPreparer:
// both are safe for concurrent use by any number of goroutines. Nothing in
// this package prints, logs or keeps state between calls.
package preprocess
