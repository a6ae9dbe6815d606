package dedup

import "errors"

// Errors returned by this package, wrapped with the path concerned; test with
// errors.Is. The first group are refusals: the action is skipped, the rest of
// the plan goes on.
var (
	// ErrOutsideRoots: the path (with symbolic links resolved) is not under
	// any of the roots the user gave.
	ErrOutsideRoots = errors.New("outside the given folders")
	// ErrSymlink: the file is a symbolic link, or a link on its way resolves
	// out of the roots.
	ErrSymlink = errors.New("symbolic link")
	// ErrExists: the destination already exists; nothing is overwritten.
	ErrExists = errors.New("destination already exists")
	// ErrChanged: the file is not what the store says (size, modification
	// time or content changed, or it is gone); re-run index first.
	ErrChanged = errors.New("file changed since it was indexed")
	// ErrNotRegular: not a regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrCrossDevice: a hard link to a keeper on another file system (a
	// symbolic link, OpSymlink, can cross).
	ErrCrossDevice = errors.New("keeper is on another file system")
	// ErrDiffers: a link would replace bytes that differ from the keeper's,
	// and Config.LinkDiffering was not given (the CLI's --yes).
	ErrDiffers = errors.New("differs from its keeper")
	// ErrNotRestorable: undo cannot bring the file back (deleted; a link
	// whose held copy was purged or is missing; a link of identical bytes
	// whose keeper changed).
	ErrNotRestorable = errors.New("cannot be restored")

	// ErrBadPolicy: a keep policy does not parse.
	ErrBadPolicy = errors.New("unknown keep policy")
	// ErrBadJournal: a journal file is not one this version reads.
	ErrBadJournal = errors.New("not a dedup journal")
	// ErrConfig: a plan was asked for with missing or contradictory settings.
	ErrConfig = errors.New("invalid dedup settings")
)
