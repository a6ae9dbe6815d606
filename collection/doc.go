// Package collection is embedsearch's library core: a store bound to a
// model, open for reading or for change, and the use cases every front end
// shares (the CLI today, the web UI and other back ends next).
//
// Words:
//
//   - A Collection is one store (store.Writer under its lock) and the model
//     its vectors come from. Open decides which model that is, in one place:
//     the model asked for, else the one the store records (a registered name
//     by its id, a model folder by the path it was opened from), else the
//     built-in model for a new store; a model that does not match the
//     store's binding is store.ErrModelMismatch, never silently ignored.
//   - A change is Index, Forget, Apply (dedup results) or Restore (dedup
//     undo). Changes are committed as they go (Index commits periodically);
//     Close commits what is pending, compacts when worthwhile and brings the
//     approximate index (HNSW graph) up to date, all cancellable: a
//     cancelled Close leaves the last commit and a stale graph, which
//     readers ignore and the next change rebuilds.
//   - A Searcher answers nearest-neighbour questions over one committed
//     snapshot (store.Reader), owning the search policy: exact scan or graph,
//     filters, refinement, damaged rows left out.
//
// A Collection is not safe for concurrent use; a Searcher is safe for
// concurrent searches. Nothing here prints: notes for people (a stale lock
// taken over, a repair, a graph rebuilt) go to Options.Note.
package collection
