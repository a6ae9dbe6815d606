package tune

import "errors"

// Errors of this package. Each is wrapped with what and where; test with
// errors.Is.
var (
	// ErrBadFile: a line of a labels or pairs file is not what it should be.
	ErrBadFile = errors.New("malformed line")
	// ErrEmpty: a labels or pairs file (or the folders) gives no images.
	ErrEmpty = errors.New("no labelled images")
	// ErrUnknownPath: a labelled image is not in the store.
	ErrUnknownPath = errors.New("image not in the store")
	// ErrOneLabel: every labelled image has the same label.
	ErrOneLabel = errors.New("only one label")
	// ErrTooFew: too few images for a split or for training.
	ErrTooFew = errors.New("too few labelled images")
	// ErrOptions: an option out of range.
	ErrOptions = errors.New("bad tuning option")
	// ErrChained: the store's model is itself a tuned model.
	ErrChained = errors.New("the store's model is already a tuned model")
	// ErrOutExists: the output folder exists and is not empty.
	ErrOutExists = errors.New("output folder is not empty")
)
