// Package web is embedsearch's browser front end: an HTTP server over one
// store that shows search results and lets a person review near-duplicate
// groups side by side before acting on them. It calls the library's use
// cases (collection.NewSearcher, collection.FindDuplicates,
// Collection.Act, collection.Undo, the "not duplicates" marks, an
// index run through Config.Index) and implements none of them again.
//
// Words:
//
//   - A Server serves the pages (HTML, CSS and hand-written JavaScript,
//     embedded in the binary: no CDN, no build step) and the JSON API behind
//     them: /api/session, /api/status, /api/query, /api/dedup, /api/apply,
//     /api/undo, /api/notdup, /api/thumb, /api/image, /api/index (an index
//     run, with progress as server-sent events).
//   - A snapshot is the store's last commit, opened read-only with its
//     Searcher; a commit by anyone (this server, the CLI) is seen at the
//     next request.
//   - Images are named by their absolute path as the store records it;
//     only paths the store holds are served, and only when the file,
//     symbolic links resolved, still lies under one of the store's roots.
//   - Thumbnails are made on demand (EXIF orientation applied) and cached
//     under the store's folder (thumbs/), trimmed to a size cap.
//
// Contracts (security): every request's Host must be one the server was
// configured with (DNS rebinding); with Config.Token set, every request
// carries the token (a bearer header, or the cookie a first ?token= visit
// sets). Every POST carries the session's CSRF token in X-CSRF-Token, and a
// cross-site Origin or Sec-Fetch-Site is refused. Uploads are limited in
// size, decoded with the decoder's pixel cap (the bomb guard) and never
// written to disk. Actions refuse while another change holds the store's
// writer lock. The package never prints: Config.Log hears what happened.
package web
