// Package preprocess decodes image files and turns them into model input
// tensors exactly as the model's manifest prescribes (PIL/torchvision
// semantics).
package preprocess
