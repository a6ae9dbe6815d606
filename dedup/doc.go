// Package dedup turns near-duplicate groups into safe file actions.
//
// Vocabulary:
//
//   - A File is one image as the store describes it: path, size, modification
//     time, pixel size, EXIF capture time and (when known) the SHA-256 of its
//     bytes.
//   - A Group is a set of Files that are near-duplicates of each other (found
//     by package search); its Keeper is the member that stays.
//   - A Policy picks the Keeper: a list of criteria (largest resolution,
//     largest file, oldest, newest, shortest path, preferred folders) applied
//     in order, ties broken by path. Files under reference folders always win
//     and are never acted on.
//   - A Plan lists one Action per duplicate: move it under another folder,
//     replace it by a hard or symbolic link to the keeper, move it to the
//     trash, or delete it. Actions the plan already knows it must not do carry
//     the reason (Action.Refused). Printing a Plan is a dry run.
//   - Apply performs a Plan. Every action is first appended to a Journal and
//     fsynced, then performed, then marked done; Undo reads a Journal and
//     reverses moves, links and trashing, newest first.
//
// Safety contract. Apply acts only on regular files whose path, with every
// symbolic link resolved, lies under one of the plan's roots; it never follows
// a link out of them, never overwrites an existing file (a name collision is a
// refusal, not a silent rename), and re-checks each file against the store
// (size, modification time, SHA-256 when known) right before acting, refusing
// it when it changed; the keeper is checked the same way, so a duplicate is
// never removed when its keeper has gone missing. Each action is atomic on
// its own: a move is one rename (or, across file systems, a complete copy
// under a temporary name, a no-replace rename, then removal of the original);
// a link is created under a temporary name in the duplicate's folder and
// renamed over it. A crash
// therefore leaves every file either untouched or completely handled, and the
// journal records which action was in flight ("begin" without "done"). Apply
// stops at the first I/O error. These checks guard against mistakes and
// stale stores, not against another process racing to swap folders.
//
// Journal format (JSON lines): a header line
// {"journal":"embedsearch-dedup","version":1,...} naming the roots and
// destination folders, then one line per state change of an action:
// {"seq":N,"state":"begin"|"done"|"failed","op":...,"src":...,"dst":...,
// "size":...,"mtime":...,"mode":...,"sha256":...,"keeper_sha256":...}.
// For a move, dst is the new path; for a link, the keeper; for trash, the file
// inside the trash's files/ folder. A torn last line (crash while writing) is
// ignored on read. Undo decides from the files themselves, not from the
// "done" marks, whether an action happened, so it is idempotent and safe after
// a crash. A deletion cannot be undone; a link can be undone only when the
// duplicate's bytes were identical to the keeper's (its own bytes are gone
// otherwise), and only while the keeper still has those bytes.
//
// Trash follows the freedesktop.org trash specification: the home trash
// ($XDG_DATA_HOME/Trash) for files on its file system, else the volume's
// $topdir/.Trash/$uid (when that folder exists with the sticky bit) or
// $topdir/.Trash-$uid; the .trashinfo file is written (exclusively) before
// the file is moved.
//
// Nothing here prints; progress is reported through callbacks. Plans and
// Journals are not safe for concurrent use.
package dedup
