package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	"golang.org/x/image/draw"

	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/atomicfile"
)

// ThumbSize is the longer side of a thumbnail, in pixels (cards show them
// at up to half that, sharp on a high-density screen).
const ThumbSize = 320

// thumbCache keeps thumbnails as JPEG files under <store>/thumbs, named by
// a hash of the file's resolved path, size and time (a changed file gets a
// new one), trimmed to a size cap, oldest used first.
type thumbCache struct {
	dir string
	cap int64

	mu    sync.Mutex
	total int64 // -1: not counted yet
	// making: one decode per thumbnail at a time.
	making map[string]*sync.WaitGroup
}

func newThumbCache(store string, cap int64) *thumbCache {
	return &thumbCache{dir: filepath.Join(store, "thumbs"), cap: cap, total: -1, making: map[string]*sync.WaitGroup{}}
}

func thumbKey(real string, fi os.FileInfo) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%d\x00%d", real, fi.Size(), fi.ModTime().UnixNano(), ThumbSize)))
	return hex.EncodeToString(h[:16])
}

// get returns the cached thumbnail, making it with make when missing.
func (c *thumbCache) get(key string, build func() ([]byte, error)) ([]byte, error) {
	if c.cap > 0 {
		if b, err := os.ReadFile(filepath.Join(c.dir, key+".jpg")); err == nil {
			now := timeNow()
			_ = os.Chtimes(filepath.Join(c.dir, key+".jpg"), now, now) // recently used
			return b, nil
		}
	}
	c.mu.Lock()
	if wg, ok := c.making[key]; ok {
		c.mu.Unlock()
		wg.Wait()
		return c.get(key, build)
	}
	wg := &sync.WaitGroup{}
	wg.Add(1)
	c.making[key] = wg
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.making, key)
		c.mu.Unlock()
		wg.Done()
	}()
	b, err := build()
	if err != nil || c.cap <= 0 {
		return b, err
	}
	if os.MkdirAll(c.dir, 0o755) == nil {
		if atomicfile.Write(c.dir, key+".jpg", func(w io.Writer) (int64, error) {
			n, err := w.Write(b)
			return int64(n), err
		}) == nil {
			c.added(int64(len(b)))
		}
	}
	return b, nil
}

// added counts a new file and trims the cache to three quarters of its
// cap when it went over.
func (c *thumbCache) added(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total < 0 {
		c.total = 0
		for _, f := range c.files() {
			c.total += f.size
		}
	} else {
		c.total += n
	}
	if c.total <= c.cap {
		return
	}
	files := c.files()
	sort.Slice(files, func(i, j int) bool { return files[i].used < files[j].used })
	for _, f := range files {
		if c.total <= c.cap*3/4 {
			break
		}
		if os.Remove(filepath.Join(c.dir, f.name)) == nil {
			c.total -= f.size
		}
	}
}

type cachedThumb struct {
	name string
	size int64
	used int64
}

func (c *thumbCache) files() []cachedThumb {
	ents, _ := os.ReadDir(c.dir)
	var out []cachedThumb
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && filepath.Ext(e.Name()) == ".jpg" {
			out = append(out, cachedThumb{e.Name(), fi.Size(), fi.ModTime().UnixNano()})
		}
	}
	return out
}

// makeThumb decodes an image (EXIF orientation applied, the pixel cap
// checked before decoding; a large JPEG at reduced scale) and scales it to
// fit ThumbSize.
func makeThumb(data []byte, maxPixels int64) ([]byte, error) {
	img, _, err := preprocess.DecodeReduced(data, preprocess.Limits{MaxPixels: maxPixels}, ThumbSize)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if s := max(w, h); s > ThumbSize {
		w, h = max(1, w*ThumbSize/s), max(1, h*ThumbSize/s)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 82}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// thumb serves a stored image's thumbnail (ETag, cached a day).
func (s *Server) thumb(w http.ResponseWriter, r *http.Request) {
	real, ok := s.requestedFile(w, r)
	if !ok {
		return
	}
	fi, err := os.Stat(real)
	if err != nil {
		httpError(w, fileStatus(err), err)
		return
	}
	key := thumbKey(real, fi)
	etag := `"` + key + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	b, err := s.thumbs.get(key, func() ([]byte, error) {
		data, _, err := readStored(r.Context(), real, 1<<30)
		if err != nil {
			return nil, err
		}
		return makeThumb(data, s.cfg.MaxPixels)
	})
	if err != nil {
		httpError(w, http.StatusUnprocessableEntity, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
