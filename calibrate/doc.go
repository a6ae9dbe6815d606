// Package calibrate chooses dedup's presets for a model: the distances
// exact, near and similar (models.Thresholds) and the constants of the near
// test (models.Dedup). It holds the one set of choosing rules, applied two
// ways:
//
//   - on a held-out set with known truth (HeldOut; bench/dedup makes the
//     sets and prints the manifest block of the built-in model), which also
//     chooses the near test's constants on a grid;
//   - on a user's own store (Run, self-calibration): a seeded sample of its
//     photos is copied with package copies (the project's edit set) into a
//     temporary folder, originals and copies are embedded with the store's
//     model (with their signatures), and the presets come from the
//     distances of copies to their originals against those of the sampled
//     photos to their nearest other photos of the store. Zoo models, whose
//     presets cannot be measured when they are registered, get real ones
//     this way.
//
// Words:
//
//   - exact kinds: copies that are the same picture (re-encodes at quality
//     50 or more, PNG, EXIF rotations, resizes that leave the model its
//     input size); every other copy is a near kind (crops, borders, frames,
//     captions, colour changes, blur, turns, strong compression...).
//   - distinct photos: in a held-out set, images of different groups; in a
//     user's store, each sampled photo's nearest other photo beyond exact
//     (a real library holds real duplicates: what lies within exact is one).
//   - Thresholds is the rule: exact is the 99th percentile of the exact
//     kinds' distances (below the closest distinct pair of a held-out set),
//     near the 95th percentile of every copy's, similar the near distance
//     judged by the vectors alone.
//
// The result of Run is a Calibration, kept by Save in the store folder
// (FileName, JSON, versioned, written atomically by internal/atomicfile:
// a crash leaves the previous file or the new one) and read by Load;
// package collection uses it before the manifest's presets. Run writes
// nothing into the store and nothing next to the photos; its temporary
// folder is removed before it returns, also when ctx is cancelled.
// Nothing here prints; Run reports progress through Options.Progress.
package calibrate
