package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
	"github.com/embedsearch/embedsearch/weaviatestore"
	"github.com/embedsearch/embedsearch/web"
)

// newServeServer builds the web server over the store: query embedding
// and index runs through the same engine and collection as query and
// index. The returned func releases it all.
// A weaviate:// store is served through its local mirror (storeDir),
// brought in step before it is read; actions and undo go through the
// same calls as dedup's (serveMirror).
func newServeServer(ctx context.Context, o serveOptions, storeDir string, dirs, hosts []string, stderr io.Writer) (*web.Server, func(), error) {
	qe := &queryEmbedder{ctx: ctx, dir: storeDir, spec: o.Engine.Model, engine: o.Engine, stderr: stderr}
	emb := &serveEmbedder{qe: qe}
	cfg := web.Config{
		Store: storeDir, Embed: emb, Token: o.Token, Hosts: hosts,
		MaxUpload: o.MaxUpload, MaxPixels: int64(o.Engine.MaxMegapixels * 1e6), ThumbCache: o.ThumbCache,
		Index: serveIndexer(o, storeDir, dirs, stderr),
		Log:   func(s string) { fmt.Fprintf(stderr, "embedsearch: %s\n", s) },
	}
	var m *models.Model
	var err error
	if isRemote(o.Store) {
		b, berr := openRemote(ctx, o.Store, weaviatestore.OpenSearcher)
		if berr != nil {
			return nil, nil, berr
		}
		qe.remote = b
		if cfg.Mirror, berr = serveMirror(o.Store); berr != nil {
			return nil, nil, berr
		}
		cfg.Mirror.Model = func() (*models.Model, error) { return collection.BackendModel(b, o.Engine.Model) }
		cfg.Index = serveIndexer(o, o.Store, dirs, stderr)
		m, err = collection.BackendModel(b, o.Engine.Model)
	} else {
		m, _, err = collection.Model(storeDir, o.Engine.Model)
	}
	if err == nil {
		emb.text = m.Manifest.Text != nil
	} else if !os.IsNotExist(err) && o.Engine.Model != "" {
		return nil, nil, err
	}
	srv, err := web.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return srv, func() {
		srv.Close()
		emb.close()
	}, nil
}

// serveMirror is how serve changes the Weaviate collection spec that it
// serves through its mirror: as dedup does (remoteActOptions, Act;
// UndoWith), the journals where dedup keeps them.
func serveMirror(spec string) (*web.Mirror, error) {
	l, err := weaviatestore.ParseLocation(spec)
	if err != nil {
		return nil, usageError{err}
	}
	jdir, err := journalDir(l)
	if err != nil {
		return nil, err
	}
	return &web.Mirror{
		Name: l.String(),
		Sync: func(ctx context.Context) error {
			_, err := mirror(ctx, spec)
			return err
		},
		Open: func(ctx context.Context, r *store.Reader) (*collection.Collection, error) {
			co, err := remoteActOptions(spec, r)
			if err != nil {
				return nil, err
			}
			return openCollection(ctx, spec, co)
		},
		Undo: func(ctx context.Context, journal string) (collection.UndoResult, error) {
			return collection.UndoWith(ctx, journal, spec, spec, openExisting)
		},
		Journals: jdir,
	}, nil
}

// serveIndexer is the status page's "index now": the store's folders that
// exist and the DIRs serve was given, indexed incrementally (index's use
// case: collection.Open, Collection.Index, Close). spec is the store's
// folder or URL.
func serveIndexer(o serveOptions, spec string, dirs []string, stderr io.Writer) web.Indexer {
	return func(ctx context.Context, progress func(index.Progress)) (index.Stats, error) {
		col, err := openCollection(ctx, spec, collection.Options{Model: o.Engine.Model, ANNThreshold: annThreshold, Note: noteTo(stderr, true)})
		if err != nil {
			return index.Stats{}, err
		}
		defer col.Close(ctx)
		roots := append([]string(nil), dirs...)
		for _, r := range col.Roots() {
			if st, err := os.Stat(r); err == nil && st.IsDir() {
				roots = append(roots, r)
			}
		}
		if len(roots) == 0 {
			return index.Stats{}, errors.New("no folders to index: start 'embedsearch serve DIR', or run 'embedsearch index DIR'")
		}
		eng, err := openCollectionEngine(ctx, col, o.Engine, stderr)
		if err != nil {
			return index.Stats{}, err
		}
		defer eng.Close()
		st, err := col.Index(ctx, eng.Encoder, index.Options{Roots: roots, MaxFileSize: eng.Encoder.MaxFileSize(), Progress: progress})
		if err != nil {
			return st, err
		}
		return st, col.Close(ctx)
	}
}

// serveEmbedder embeds uploads and texts with the store's model, one at a
// time (the model is opened on the first).
type serveEmbedder struct {
	mu   sync.Mutex
	qe   *queryEmbedder
	text bool
}

func (e *serveEmbedder) Image(ctx context.Context, data []byte) ([]float32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.qe.image(data, "upload")
}

func (e *serveEmbedder) Text(ctx context.Context, s string) ([]float32, error) {
	if !e.text {
		return nil, web.ErrNoText
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.qe.text(s)
}

func (e *serveEmbedder) HasText() bool { return e.text }

func (e *serveEmbedder) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.qe.Close()
}

// serveHosts are the Host headers a loopback server answers (any, with
// the token, otherwise).
func serveHosts(asked string, addr *net.TCPAddr, loopback bool) []string {
	if !loopback {
		return nil
	}
	p := strconv.Itoa(addr.Port)
	return []string{"127.0.0.1:" + p, "localhost:" + p, "[::1]:" + p, strings.ToLower(hostPort(asked, addr))}
}

// hostPort is the address to print: the host asked for (unless empty or
// unspecified) with the port listened on.
func hostPort(asked string, addr *net.TCPAddr) string {
	host, _, err := net.SplitHostPort(asked)
	if err != nil || host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		host = addr.IP.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(addr.Port))
}
