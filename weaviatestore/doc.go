// Package weaviatestore keeps a collection's vectors and catalogue in a
// Weaviate collection (a replicated, sharded vector database), as a
// collection.Backend: index, forget and the readers work on it as on a
// local store.
//
// Words:
//
//   - A Location is what --store weaviate://HOST:PORT/Collection names:
//     the REST endpoint, the gRPC endpoint (batch import), the Weaviate
//     collection (a class), an optional tenant, the consistency level of
//     every read and write (default QUORUM) and, for a new collection,
//     its replication factor. weaviates:// uses TLS; the API key comes
//     from EMBEDSEARCH_WEAVIATE_API_KEY.
//   - The collection's schema: no vectorizer, l2-squared distance (HNSW),
//     one object per image with the catalogue's fields as properties,
//     strings with field tokenization (a path or a camera model is one
//     token, so "A" is no stopword), and the model binding recorded in the
//     class description when the collection is created; a later binding
//     that differs is store.ErrModelMismatch.
//   - Object IDs are deterministic: UUIDv5 of the file's identity (its
//     filesystem's source and the path inside that filesystem, see
//     Identity), so the same library mounted at two paths, or indexed by
//     two machines at once, is one set of objects, and a batch written
//     twice is written once.
//   - A Store is one open collection (and tenant) under change: the
//     catalogue (no vectors) is read once on Open; Put and Delete are
//     batched until Commit, which writes them with retries and back-off
//     on transient errors and reports every object that still failed
//     (ErrObjects), never dropping one silently.
//   - Search asks Weaviate's HNSW index for the nearest images, restricted
//     by a Filter: the catalogue filter clauses, folders and paths that map
//     exactly onto where filters on the field-tokenized properties (the
//     rest is ErrNoWhere, for the caller to filter another way).
//
// Several processes may write one collection at once (no lock: the IDs
// make writes idempotent); a Store itself is not safe for concurrent use.
// Distances: Weaviate's l2-squared is squared; Search reports Euclidean
// distances, as the local store does.
package weaviatestore
