package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/internal/inputfile"
	"github.com/embedsearch/embedsearch/store"
)

// Refusals of a requested image path.
var (
	errBadPath    = errors.New("not an absolute, clean path")
	errNotInStore = errors.New("not an image of this store")
	errOutside    = errors.New("the file now lies outside the store's folders")
)

// storedFile checks a requested path (the query's "path"): absolute,
// clean, no NUL, held by the store, and, symbolic links resolved, still
// under one of the store's roots. It returns the store's id and the
// resolved path to open.
func storedFile(r *store.Reader, p string) (id int, real string, err error) {
	if p == "" || strings.ContainsRune(p, 0) || !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return 0, "", fmt.Errorf("%w: %q", errBadPath, p)
	}
	for _, el := range strings.Split(p, string(filepath.Separator)) {
		if el == ".." || el == "." {
			return 0, "", fmt.Errorf("%w: %q", errBadPath, p)
		}
	}
	id, ok := r.Lookup(p)
	if !ok {
		return 0, "", fmt.Errorf("%w: %q", errNotInStore, p)
	}
	real, err = filepath.EvalSymlinks(p)
	if err != nil {
		return 0, "", err
	}
	for _, root := range r.Roots() {
		if rr, err := filepath.EvalSymlinks(root); err == nil && fspath.Within(rr, real) {
			return id, real, nil
		}
	}
	return 0, "", fmt.Errorf("%w: %q", errOutside, p)
}

// readStored reads a stored image's bytes (regular files only, size
// limited; the opener never follows a link: real is resolved).
func readStored(ctx context.Context, real string, max int64) ([]byte, fs.FileInfo, error) {
	data, fi, err := inputfile.ReadAll(ctx, real, inputfile.Options{MaxSize: max})
	return data, fi, err
}

// fileStatus is the HTTP status for a path refusal.
func fileStatus(err error) int {
	switch {
	case errors.Is(err, errBadPath):
		return http.StatusBadRequest
	case errors.Is(err, errNotInStore), errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound
	case errors.Is(err, errOutside), errors.Is(err, inputfile.ErrNotRegular):
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// requestedFile is the resolved path of the stored image the request's
// "path" names (storedFile); on a refusal it answers the request itself.
func (s *Server) requestedFile(w http.ResponseWriter, r *http.Request) (string, bool) {
	sn, release, err := s.current()
	if err != nil {
		httpError(w, http.StatusConflict, err)
		return "", false
	}
	_, real, err := storedFile(sn.r, r.URL.Query().Get("path"))
	release()
	if err != nil {
		httpError(w, fileStatus(err), err)
		return "", false
	}
	return real, true
}

// image serves a stored image's own bytes.
func (s *Server) image(w http.ResponseWriter, r *http.Request) {
	real, ok := s.requestedFile(w, r)
	if !ok {
		return
	}
	f, fi, err := inputfile.Open(real, inputfile.Options{MaxSize: 1 << 30})
	if err != nil {
		httpError(w, fileStatus(err), err)
		return
	}
	defer f.Close()
	// The type by the file's own first bytes, never sniffed as a page or
	// a script: whatever the file holds now, it is shown as an image or
	// downloaded.
	head := make([]byte, 64)
	n, _ := f.ReadAt(head, 0)
	ct := imageTypes[preprocess.Sniff(head[:n])]
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.Header().Set("Content-Disposition", "inline")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// imageTypes are the media types of the formats browsers show.
var imageTypes = map[string]string{
	preprocess.FormatJPEG: "image/jpeg", preprocess.FormatPNG: "image/png", preprocess.FormatGIF: "image/gif",
	preprocess.FormatBMP: "image/bmp", preprocess.FormatWebP: "image/webp", "avif": "image/avif",
}
