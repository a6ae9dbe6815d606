// Package copies makes copies of a photo the way people copy photos: saved
// again at another JPEG quality or as PNG, resized, squashed, cropped (in the
// centre or from one side), given a border, a picture frame or a larger
// canvas, mirrored, turned, captioned, recoloured (hue, grey, brightness,
// sepia), blurred, or turned in its pixels with an EXIF orientation tag that
// turns it back for a viewer that honours EXIF.
//
// Words:
//
//   - An Edit is one named change: an Op with its parameters (Amount, Anchor),
//     the file format the copy is saved in (Format, Quality) and a Seed for
//     the choices it makes at random (a caption's words and place, a
//     canvas's colour).
//   - Edits lists the named edits the project uses (the demo folder, the
//     near-duplicate self-calibration); Variants draws any number of edits
//     with parameters spread over realistic ranges.
//   - Apply gives an edit's pixels; Make gives the copy's file bytes and its
//     extension. Apply results can be chained: Apply(Apply(img, a), b).
//
// Contracts: everything is pure Go on image.Image and the standard encoders,
// and deterministic: the same source and Edit give the same bytes on every
// run and machine. Nothing reads or writes files. All functions are safe for
// concurrent use; the source image is never modified.
package copies
