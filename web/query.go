package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/store"
)

// Result is one image of an answer (the JSON of /api/query's results and
// /api/dedup's members share these fields).
type Result struct {
	Rank     int       `json:"rank,omitempty"`
	Path     string    `json:"path"`
	Folder   string    `json:"folder"`
	Name     string    `json:"name"`
	Distance float32   `json:"distance"`
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Size     int64     `json:"size"`
	Format   string    `json:"format"`
	Taken    time.Time `json:"taken,omitzero"`
	Modified time.Time `json:"modified,omitzero"`
	Camera   string    `json:"camera,omitempty"`
}

func result(r *store.Reader, id int) Result {
	e := r.Entry(id)
	return Result{Path: e.Path, Folder: filepath.Dir(e.Path), Name: filepath.Base(e.Path), Width: e.Width, Height: e.Height,
		Size: e.Size, Format: e.Format, Taken: e.Taken, Modified: e.ModTime, Camera: strings.TrimSpace(e.Make + " " + e.Model)}
}

// queryAnswer is /api/query's JSON.
type queryAnswer struct {
	Query   string   `json:"query"`
	Model   string   `json:"model"`
	Method  string   `json:"method"`
	Similar float32  `json:"similar"` // the model's similar preset: farther is "not close"
	Close   int      `json:"close"`   // results within Similar
	Results []Result `json:"results"`
}

// query answers GET ?path=P (an indexed image: "more like this") or
// ?text=T, and POST multipart with an image file in "image" (or "text");
// k (default 60, at most 500), filter (a catalog query, as query --filter)
// and in (a folder, repeatable) as in the CLI.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	var upload []byte
	var uploadName string
	if r.Method == http.MethodPost {
		var code int
		var err error
		if upload, uploadName, code, err = s.readUpload(w, r); err != nil {
			httpError(w, code, err)
			return
		}
	}
	k := 60
	if v := r.FormValue("k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			httpError(w, http.StatusBadRequest, fmt.Errorf("k %q: want 1 to 500", v))
			return
		}
		k = n
	}
	sn, release, err := s.current()
	if err != nil {
		httpError(w, http.StatusConflict, err)
		return
	}
	defer release()
	var vec []float32
	var label string
	self := -1
	switch {
	case r.FormValue("path") != "":
		p := r.FormValue("path")
		id, _, err := storedFile(sn.r, p)
		if err != nil {
			httpError(w, fileStatus(err), err)
			return
		}
		vec, label, self = sn.r.Vector(id), p, id
	case upload != nil:
		if s.cfg.Embed == nil {
			httpError(w, http.StatusNotImplemented, errors.New("this server cannot embed images"))
			return
		}
		if vec, err = s.cfg.Embed.Image(r.Context(), upload); err != nil {
			httpError(w, http.StatusUnprocessableEntity, fmt.Errorf("the uploaded image: %w", err))
			return
		}
		label = uploadName
	case strings.TrimSpace(r.FormValue("text")) != "":
		label = strings.TrimSpace(r.FormValue("text"))
		if s.cfg.Embed == nil || !s.cfg.Embed.HasText() {
			httpError(w, http.StatusUnprocessableEntity, ErrNoText)
			return
		}
		if vec, err = s.cfg.Embed.Text(r.Context(), label); err != nil {
			httpError(w, http.StatusUnprocessableEntity, err)
			return
		}
	default:
		httpError(w, http.StatusBadRequest, errors.New("give path (an indexed image), text, or an image file"))
		return
	}
	if len(vec) != sn.r.Dim() {
		httpError(w, http.StatusInternalServerError, fmt.Errorf("the query vector has %d numbers; the store's model %d", len(vec), sn.r.Dim()))
		return
	}
	allow, err := filters(sn.r, r.Form["filter"], r.Form["in"], self, r.FormValue("exclude_self") == "1")
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	found, err := sn.s.Nearest(r.Context(), vec, k, allow)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, err)
		return
	}
	ans := queryAnswer{Query: label, Model: sn.r.Model().ModelID, Method: sn.s.Method(), Results: []Result{}}
	if sn.manifest != nil {
		t, _, _ := collection.StorePresets(sn.r, sn.manifest)
		ans.Similar = float32(t.Similar)
	}
	for i, nb := range found {
		res := result(sn.r, nb.ID)
		res.Rank, res.Distance = i+1, nb.Dist
		if ans.Similar == 0 || nb.Dist <= ans.Similar {
			ans.Close++
		}
		ans.Results = append(ans.Results, res)
	}
	writeJSON(w, ans)
}

// readUpload reads a multipart query in memory, never to disk: the file
// in "image" (at most MaxUpload bytes), and the other fields, small, into
// r.Form beside the URL's.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (data []byte, name string, code int, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+1<<20)
	tooBig := fmt.Errorf("the upload is larger than %d MiB", s.cfg.MaxUpload>>20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", http.StatusBadRequest, fmt.Errorf("want a multipart form with an image file in 'image': %w", err)
	}
	form := r.URL.Query()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", http.StatusRequestEntityTooLarge, tooBig
		}
		if err != nil {
			return nil, "", http.StatusBadRequest, fmt.Errorf("the multipart form: %w", err)
		}
		if part.FormName() == "image" && data == nil {
			name = part.FileName()
			data, err = io.ReadAll(io.LimitReader(part, s.cfg.MaxUpload+1))
			if errors.As(err, &mbe) || int64(len(data)) > s.cfg.MaxUpload {
				return nil, "", http.StatusRequestEntityTooLarge, tooBig
			}
			if err != nil {
				return nil, "", http.StatusBadRequest, err
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 64<<10))
		if err != nil {
			return nil, "", http.StatusBadRequest, err
		}
		form.Add(part.FormName(), string(v))
	}
	r.Form = form
	return data, name, 0, nil
}

// filters combines filter (the catalog query of query --filter), the in
// folders and leaving the query image out into one predicate.
func filters(r *store.Reader, filter, in []string, self int, excludeSelf bool) (func(int) bool, error) {
	var preds []func(int) bool
	for _, q := range filter {
		if strings.TrimSpace(q) == "" {
			continue
		}
		f, err := r.Filter(q)
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		preds = append(preds, f)
	}
	var dirs []string
	for _, d := range in {
		if d = strings.TrimSpace(d); d != "" {
			if !filepath.IsAbs(d) {
				return nil, fmt.Errorf("in %q: want an absolute folder", d)
			}
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	if len(dirs) > 0 {
		preds = append(preds, func(id int) bool { return fspath.WithinAny(dirs, r.Path(id)) })
	}
	if excludeSelf && self >= 0 {
		preds = append(preds, func(id int) bool { return id != self })
	}
	return collection.AllOf(preds...), nil
}
