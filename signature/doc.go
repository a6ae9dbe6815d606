// Package signature is what index keeps of every image for dedup besides
// its vector: a small, model-agnostic description of the image's real
// pixels, and the second, independent check of a candidate pair that dedup
// makes with it before two images join a group.
//
// # Vocabulary
//
//   - Signature: computed once from the decoded image (EXIF orientation
//     applied). Box is the real pixels: the image less the uniform bands
//     at its edges (a border, a frame's moulding and mat, a canvas), in
//     displayed pixels. Luma is Box squashed to a Side×Side thumbnail,
//     Chroma its colour at ChromaSide×ChromaSide. Grey says the image has
//     no colour, Sharpness how much fine detail it keeps (a blur lowers
//     it; a contrast change does not), Quality how hard it was compressed
//     (a JPEG quality estimate from its quantisation tables, set by the
//     decoder that has the file's bytes). The keeper is chosen by these.
//   - Binary form: Size bytes, Format (the version) first
//     (MarshalBinary, UnmarshalBinary); the store keeps it as opaque bytes
//     with its own checksum.
//   - Prepared: a signature made ready for Compare (float grids, coarse
//     levels), made once per image and compared with many.
//   - Compare: aligns b to a — the eight right-angle orientations, then a
//     coarse search over crops (both ways, of both sides or of one) and a
//     finer climb — and measures, where they overlap, Score (luma
//     correlation), Grad (correlation of the luma gradients: the measure
//     that tells a copy from a look-alike), Colour (the share of colour one
//     global colour change explains) and Changed (the share of the overlap
//     whose colour it does not: a local recolouring); where either image
//     has no colour of its own (NoColour) those are blind, and ToneChanged
//     (the share whose luma one global tone curve does not explain) stands
//     in for them. Which values accept a
//     pair is the caller's choice (per-model constants in the model's
//     manifest).
//
// # Contracts
//
// Compute and Compare are deterministic, pure functions, safe for
// concurrent use; a Prepared is read-only after Prepare. Compute costs one
// pass over the decoded pixels plus work on an at most 256-pixel copy;
// Compare costs tens of microseconds when the frames already agree and a
// fraction of a millisecond when it has to search crops (README gives the
// measured cost per candidate pair). A thumbnail with no structure (a blank
// page) never matches anything: Compare returns zero scores.
package signature
