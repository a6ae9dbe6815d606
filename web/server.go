package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

//go:embed assets
var assets embed.FS

// Embedder embeds query images and texts with the store's model.
type Embedder interface {
	// Image embeds an image file's bytes.
	Image(ctx context.Context, data []byte) ([]float32, error)
	// Text embeds a text; ErrNoText when the model has no text tower.
	Text(ctx context.Context, text string) ([]float32, error)
	// HasText reports whether Text can work.
	HasText() bool
}

// ErrNoText: the store's model has no text tower.
var ErrNoText = errors.New("this store's model has no text tower: search by image")

// ErrBusy: another change (an index run, an action) is in progress.
var ErrBusy = errors.New("another change of the store is in progress; try again when it has finished")

// Indexer runs the incremental index of the store's folders (the library's
// collection.Open, Collection.Index, Close), reporting progress, until ctx
// is cancelled.
type Indexer func(ctx context.Context, progress func(index.Progress)) (index.Stats, error)

// Config says what a Server serves and to whom.
type Config struct {
	// Store is the store's folder (absolute).
	Store string
	// Embed embeds uploaded images and texts; nil refuses them (queries
	// by an indexed image still work).
	Embed Embedder
	// Index runs an index of the store's folders; nil: no index button.
	Index Indexer
	// Token, when set, must come with every request.
	Token string
	// Hosts are the Host header values (host:port, lower case) requests
	// may carry; empty accepts any (only with a Token).
	Hosts []string
	// MaxUpload is the largest uploaded image (0: DefaultMaxUpload).
	MaxUpload int64
	// MaxPixels is the decoder's pixel cap for uploads and thumbnails (0:
	// the decoder's default).
	MaxPixels int64
	// ThumbCache caps the thumbnails kept under the store (0:
	// DefaultThumbCache; negative: no disk cache).
	ThumbCache int64
	// Trash is where dedup's trash action puts files (zero: the
	// environment's home trash); for tests.
	Trash dedup.Trash
	// Log, when set, hears one line per action taken and per failure.
	Log func(string)
	// Mirror, when set, says that Store is the local mirror of a store
	// kept elsewhere (a Weaviate collection): how to bring it in step and
	// how to change the store itself.
	Mirror *Mirror
}

// Mirror is a store kept elsewhere, served through its local mirror in
// Config.Store: searches and groups read the mirror; actions and undo
// change the files and the store itself, through the same library calls
// as the CLI.
type Mirror struct {
	// Name is the store's own name (a URL), shown instead of the mirror's
	// folder.
	Name string
	// Sync brings the mirror in step with the store. The server calls it
	// before it reads the mirror, at most once a second, one call at a
	// time, and again after every action or undo.
	Sync func(ctx context.Context) error
	// Open opens the store for an action on the groups of the snapshot r
	// (collection.Act then refuses a store changed since r).
	Open func(ctx context.Context, r *store.Reader) (*collection.Collection, error)
	// Undo reverses a journal and tells the store (collection.UndoWith).
	Undo func(ctx context.Context, journal string) (collection.UndoResult, error)
	// Journals is the folder that holds the store's journals.
	Journals string
	// Model, when set, is the store's model (the mirror records only its
	// id, not a model folder's path).
	Model func() (*models.Model, error)
}

// Defaults of Config.
const (
	DefaultMaxUpload  = 64 << 20
	DefaultThumbCache = 256 << 20
)

// Server is the web front end of one store. Close it.
type Server struct {
	cfg  Config
	csrf string
	mux  *http.ServeMux

	snapMu sync.RWMutex
	snap   *snapshot

	// change is held by an action, an undo or an index run of this server.
	change sync.Mutex
	// syncMu serialises Mirror.Sync; synced is when it last ran.
	syncMu sync.Mutex
	synced time.Time
	idx    indexRun
	thumbs *thumbCache
	dups   dupCache
}

// New prepares a server over cfg.Store (which may not exist yet: the
// pages then say to index first).
func New(cfg Config) (*Server, error) {
	if cfg.Store == "" {
		return nil, errors.New("web: no store folder")
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.ThumbCache == 0 {
		cfg.ThumbCache = DefaultThumbCache
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, csrf: hex.EncodeToString(b[:])}
	s.thumbs = newThumbCache(cfg.Store, cfg.ThumbCache)
	s.mux = http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	for _, page := range []string{"/", "/dups", "/status"} {
		s.mux.HandleFunc("GET "+page, s.page)
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	s.mux.HandleFunc("GET /api/session", s.session)
	s.mux.HandleFunc("GET /api/status", s.status)
	s.mux.HandleFunc("GET /api/query", s.query)
	s.mux.HandleFunc("POST /api/query", s.query)
	s.mux.HandleFunc("GET /api/dedup", s.dedupGroups)
	s.mux.HandleFunc("POST /api/apply", s.apply)
	s.mux.HandleFunc("POST /api/undo", s.undo)
	s.mux.HandleFunc("POST /api/notdup", s.notDup)
	s.mux.HandleFunc("GET /api/thumb", s.thumb)
	s.mux.HandleFunc("GET /api/image", s.image)
	s.mux.HandleFunc("POST /api/index", s.indexStart)
	s.mux.HandleFunc("POST /api/index/cancel", s.indexCancel)
	s.mux.HandleFunc("GET /api/index/events", s.indexEvents)
	return s, nil
}

// CSRF is the session's CSRF token (what /api/session says).
func (s *Server) CSRF() string { return s.csrf }

// Close stops an index run and releases the snapshot.
func (s *Server) Close() error {
	s.idx.cancelAndWait()
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.snap != nil {
		s.snap.close()
		s.snap = nil
	}
	return nil
}

func (s *Server) log(format string, args ...any) {
	if s.cfg.Log != nil {
		s.cfg.Log(fmt.Sprintf(format, args...))
	}
}

// ServeHTTP checks the request (Host, token, CSRF, Origin) and serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	if !s.hostAllowed(r.Host) {
		httpError(w, http.StatusMisdirectedRequest, fmt.Errorf("host %q is not this server's (open it by the address it printed)", r.Host))
		return
	}
	if s.cfg.Token != "" && !s.tokenOK(w, r) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := s.sameOrigin(r); err != nil {
			httpError(w, http.StatusForbidden, err)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(s.csrf)) != 1 {
			httpError(w, http.StatusForbidden, errors.New("missing or wrong CSRF token: send /api/session's csrf in the X-CSRF-Token header"))
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) hostAllowed(host string) bool {
	if len(s.cfg.Hosts) == 0 {
		return true
	}
	host = strings.ToLower(host)
	for _, h := range s.cfg.Hosts {
		if host == h {
			return true
		}
	}
	return false
}

const tokenCookie = "embedsearch_token"

// tokenOK accepts a bearer token, the cookie, or ?token= on a GET (which
// sets the cookie and redirects to the same URL without it).
func (s *Server) tokenOK(w http.ResponseWriter, r *http.Request) bool {
	eq := func(t string) bool { return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.Token)) == 1 }
	if eq(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) {
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && eq(c.Value) {
		return true
	}
	if q := r.URL.Query(); r.Method == http.MethodGet && eq(q.Get("token")) {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.cfg.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	httpError(w, http.StatusUnauthorized, errors.New("this server needs its token: open the address it printed, or send 'Authorization: Bearer TOKEN'"))
	return false
}

// sameOrigin refuses a state-changing request a page of another site
// sent: its Origin names another host, or the browser says cross-site.
func (s *Server) sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return fmt.Errorf("refused a %s request", site)
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return nil // not a browser's cross-origin request (curl, scripts)
	}
	u, err := url.Parse(o)
	if err != nil || !strings.EqualFold(u.Host, r.Host) || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("refused a request from origin %q", o)
	}
	return nil
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"csrf": s.csrf})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	_ = enc.Encode(v)
}

// httpError answers {"error": "..."} with code.
func httpError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
