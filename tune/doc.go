// Package tune teaches a store's model the user's own notion of "the
// same": it trains a small head on the store's frozen vectors from labels
// (classes, or pairs of copies), with contrastive, triplet or NT-Xent
// losses and hard negatives mined with package search, and writes the
// result as a model folder that chains the base model and the head.
//
// # Vocabulary
//
//   - Head: a linear map (initialised at the identity) or a one-hidden-
//     layer residual MLP (its branch initialised at zero), followed by L2
//     normalisation; it maps a base vector to a tuned one (head.go).
//   - Data: the labelled images' base vectors, their labels and their
//     duplicate groups (data.go). Labels come from a labels file
//     (PATH<TAB>LABEL), folders (FolderLabels) or a pairs file
//     (PATH<TAB>PATH; more paths on a line make one group of copies);
//     relative paths are relative to the file's folder (listfile.go).
//   - Split: images trained on and held out (split.go): by image with
//     duplicate groups kept on one side, by label, or in file order. A
//     part of the training side is set aside for early stopping; the
//     held-out side is only ever reported on.
//   - Tuple: an anchor, a positive (another image of its label) and a
//     negative, mined each epoch among the anchor's nearest neighbours
//     under the current head (search.KNN, or the HNSW graph above
//     ExactLimit images): an easy positive and the nearest negative beyond
//     it, semi-hard by FaceNet's rule when there is one (mine.go).
//   - Metrics: recall@1 and precision@10 by label over one image per
//     duplicate group, recall@1 of copies, pairwise F1 at the best
//     threshold and at the preset (metrics.go).
//
// # Gradients
//
// Losses (loss.go) give the gradient with respect to the normalised
// outputs; step.go carries it through the normalisation and the head,
// written by hand (onnxruntime here runs inference only) and checked
// against finite differences in the tests. Adam updates the parameters.
// Every random choice comes from the seed, and gradients are summed in a
// fixed number of pieces in a fixed order, so a run is the same for a
// seed whatever the number of cores (the HNSW mining search excepted,
// whose graph depends on its insertion order).
//
// # Output
//
// WriteModel writes the head as a small ONNX graph (onnx.go: the
// protobuf written directly), a training record and a manifest whose
// models.Head names the base model by id and image file digest (not
// copied), so that index, query and dedup use the tuned model like any
// other; infer runs the base tower and then the head. Reproject writes a
// store of the tuned model from a store of the base one without decoding
// an image.
//
// Nothing here prints; progress goes through Options.Progress. Functions
// are safe for concurrent use on distinct values.
package tune
