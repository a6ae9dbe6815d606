package main

import (
	"errors"
	"fmt"

	"github.com/embedsearch/embedsearch/calibrate"
	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/download"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
	"github.com/embedsearch/embedsearch/tune"
	"github.com/embedsearch/embedsearch/weaviatestore"
)

// hint is what to do about err, keyed on the libraries' sentinel errors:
// the libraries say what happened, only the CLI knows its commands, flags
// and variables. "" when there is nothing to add, else it starts with "; ".
func hint(err error) string {
	var notCached *models.NotCachedError
	switch {
	// The store.
	case errors.Is(err, store.ErrCorrupt):
		return "; run `embedsearch index --repair` to repair the store (damaged segments are dropped and their images embedded again)"
	case errors.Is(err, store.ErrCatalogDamaged):
		return "; run `embedsearch index --repair` to rebuild it"
	case errors.Is(err, store.ErrCatalogStale):
		return "; run `embedsearch index` (or `embedsearch index --repair`) to bring it up to date"
	case errors.Is(err, models.ErrRetiredBuiltin):
		return "; index the same folders into a new store (`embedsearch index --store NEW_DIR DIR...`; `embedsearch status` lists the store's folders)"
	case errors.Is(err, store.ErrModelMismatch):
		return "; use --store NEW_DIR for a store of this model, or --model with the store's model"
	case errors.Is(err, store.ErrReadOnly):
		return "; use --store to pick a writable location"
	case errors.Is(err, store.ErrLocked):
		return "; wait for it to finish (an `embedsearch index` still running?)"

	case errors.Is(err, weaviatestore.ErrObjects):
		return "; run the same `embedsearch index` again to write them (the rest is stored)"

	case errors.Is(err, collection.ErrStoreChanged):
		return "; an index run changed it: run dedup again"
	case errors.Is(err, collection.ErrStoreBehind):
		return "; `embedsearch index` on those folders brings it in step"
	case errors.Is(err, collection.ErrModelGone):
		return "; put the model back there, or pass --model DIR with it"
	case errors.Is(err, calibrate.ErrTooFew):
		return "; index more of the library into the store (`embedsearch index DIR`), or keep the model manifest's presets"
	case errors.Is(err, collection.ErrCalibration):
		return "; run `embedsearch calibrate` to measure it again (or delete the file to use the model manifest's presets)"

	// Models.
	case errors.As(err, &notCached):
		return "; run 'embedsearch models pull " + notCached.Name + "' (or pass --model DIR with its files)"
	case errors.Is(err, models.ErrOffline):
		return "; run without --offline to download it, or pass --model DIR with the files"
	case errors.Is(err, models.ErrNoBuiltin):
		return "; pass --model DIR"
	case errors.Is(err, models.ErrUnregisteredID):
		return "; pass --model with the model directory the store was built with"
	case errors.Is(err, models.ErrRecordedDigest):
		return "; the bytes served now are not those of the first download: check the mirror (" + models.EnvBaseURL +
			"); if the publisher really changed the file, 'embedsearch models rm --forget NAME' forgets the recorded digest"
	case errors.Is(err, models.ErrBadGraph):
		return "; the server did not send this model's file (check the mirror, " + models.EnvBaseURL + ", or try again later); nothing was kept"
	case errors.Is(err, models.ErrChecksum):
		return "; the file is not the one its digest names: run 'embedsearch models pull NAME' again, or check the mirror (" + models.EnvBaseURL + ")"
	case errors.Is(err, download.ErrUnreachable) && errors.Is(err, models.ErrDownload):
		return "; check the network, point " + models.EnvBaseURL + " at a mirror, or pass --model DIR with the files"
	case errors.Is(err, models.ErrBaseModel):
		return "; a tuned model needs the base model it was trained on: put its folder back (or pull it), or tune again"

	// tune.
	case errors.Is(err, tune.ErrUnknownPath):
		return "; `embedsearch index` the folders first (tune reads the store's vectors)"
	case errors.Is(err, tune.ErrBadFile):
		return "; each line is PATH<TAB>LABEL (--labels) or PATH<TAB>PATH (--pairs); lines starting with # are skipped"
	case errors.Is(err, tune.ErrOneLabel):
		return "; images of at least two labels (or two pairs) are needed to tell them apart"
	case errors.Is(err, tune.ErrTooFew):
		return "; label more images, or change --holdout or --split"
	case errors.Is(err, tune.ErrOutExists):
		return "; pick a new or empty folder"
	case errors.Is(err, tune.ErrChained):
		return "; --store with a store of the base model"

	// onnxruntime.
	case errors.Is(err, infer.ErrRuntimeLibrary):
		return fmt.Sprintf("; --onnxruntime or %s named it: give a libonnxruntime.so >= %s (or its folder), or neither to use the cache, the system or a download",
			envRuntimeLib, infer.MinVersion)
	case errors.Is(err, infer.ErrOffline):
		return fmt.Sprintf("; pass --onnxruntime PATH or set %s to a libonnxruntime.so >= %s, or unset %s to allow the download of onnxruntime %s",
			envRuntimeLib, infer.MinVersion, envOffline, infer.DefaultPin.Version)
	case errors.Is(err, infer.ErrRuntimeNotFound) || errors.Is(err, infer.ErrRuntimeVersion) || errors.Is(err, infer.ErrDownload):
		h := fmt.Sprintf("; to use an installed libonnxruntime.so >= %s pass --onnxruntime PATH or set %s", infer.MinVersion, envRuntimeLib)
		if errors.Is(err, download.ErrUnreachable) {
			h += "; check the network or point " + envORTBaseURL + " at a mirror"
		}
		return h
	case errors.Is(err, infer.ErrCPUOnly):
		return "; for CUDA install Microsoft's onnxruntime-gpu build for CUDA 12 (linux-x64) and pass --onnxruntime PATH/lib/libonnxruntime.so"

	// One file or one dedup action.
	case errors.Is(err, preprocess.ErrTooLarge):
		return "; raise the limit with --max-megapixels"
	case errors.Is(err, preprocess.ErrNoLibheif):
		return "; install libheif (Debian, Ubuntu: apt-get install libheif1; macOS: brew install libheif) or set " +
			preprocess.LibheifEnv + " to its path"
	case errors.Is(err, dedup.ErrCrossDevice):
		return "; use --link sym"
	}
	return ""
}

// withHint is err's message followed by what to do about it: the one way
// an error becomes text for the user, whether it ends the command (report)
// or only one file or action (the failure lines of index, embed and dedup,
// dedup's refusals).
func withHint(err error) string { return err.Error() + hint(err) }
