package web

import (
	"io/fs"
	"net/http"
	"path"
)

// page serves the HTML of a page (search, duplicates, status).
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	name := map[string]string{"/": "search.html", "/dups": "dups.html", "/status": "status.html"}[r.URL.Path]
	if name == "" {
		http.NotFound(w, r)
		return
	}
	b, err := assets.ReadFile(path.Join("assets", name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// staticHandler serves the embedded CSS and JavaScript (no listings).
func staticHandler(static fs.FS) http.Handler {
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
