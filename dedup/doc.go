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
//   - A link replaces a duplicate's bytes. When they differ from the
//     keeper's (a near-duplicate, not a copy: Action.Differs), they are
//     first held: given a second name in the journal's holding folder
//     (HeldDir: the journal's name with ".held" for ".jsonl"), a hard link
//     when it is on the file's file system, else a copy, fsynced and read
//     back against the file's hash. Such links need Config.LinkDiffering.
//     Holding frees no space; Purge releases the held copies, after which
//     those links cannot be undone.
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
// renamed over it, after the held copy (if any) is complete. A crash
// therefore leaves every file either untouched or completely handled, its
// own bytes in the file or in the holding folder, and the journal records
// which action was in flight ("begin" without "done"). Apply stops at the
// first I/O error. These checks guard against mistakes and stale stores,
// not against another process racing to swap folders.
//
// Journal format (JSON lines): a header line
// {"journal":"embedsearch-dedup","version":2,...} naming the roots and
// destination folders, then one line per state change of an action:
// {"seq":N,"state":"begin"|"done"|"failed"|"purged","op":...,"src":...,
// "dst":...,"size":...,"mtime":...,"mode":...,"sha256":...,
// "keeper_sha256":...,"held":...,"store_entry":...}.
// For a move, dst is the new path; for a link, the keeper; for trash, the file
// inside the trash's files/ folder. "held" (links of differing files, in the
// begin record) is the held copy's name in the holding folder;
// "store_entry" is the caller's opaque description of the file
// (Action.StoreEntry), handed back by Undo. "purged" is appended by Purge
// before it removes a held copy. Version 1 (no held copies) is still read. A
// torn last line (crash while writing) is ignored on read and cut off
// before Purge appends. Undo decides from the files themselves, not from
// the "done" marks, whether an action happened, so it is idempotent and
// safe after a crash. A deletion cannot be undone; a link is undone from
// its held copy, or, for a byte-identical duplicate, from the keeper while
// it still has those bytes. A link whose held copy was purged stays a link.
//
// Trash follows the freedesktop.org trash specification: the home trash
// ($XDG_DATA_HOME/Trash) for files on its file system, else the volume's
// $topdir/.Trash/$uid (when that folder exists with the sticky bit) or
// $topdir/.Trash-$uid; the .trashinfo file is written (exclusively) before
// the file is moved.
//
// Nothing here prints; progress is reported through callbacks. Plans and
// Journals are not safe for concurrent use, nor are Apply, Undo and Purge
// on one journal at the same time.
package dedup
