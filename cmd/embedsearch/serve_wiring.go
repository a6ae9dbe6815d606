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
	"github.com/embedsearch/embedsearch/web"
)

// newServeServer builds the web server over the store: query embedding
// and index runs through the same engine and collection as query and
// index. The returned func releases it all.
func newServeServer(ctx context.Context, o serveOptions, storeDir string, dirs, hosts []string, stderr io.Writer) (*web.Server, func(), error) {
	qe := &queryEmbedder{ctx: ctx, dir: storeDir, spec: o.Engine.Model, engine: o.Engine, stderr: stderr}
	emb := &serveEmbedder{qe: qe}
	if m, _, err := collection.Model(storeDir, o.Engine.Model); err == nil {
		emb.text = m.Manifest.Text != nil
	} else if !os.IsNotExist(err) && o.Engine.Model != "" {
		return nil, nil, err
	}
	srv, err := web.New(web.Config{
		Store: storeDir, Embed: emb, Token: o.Token, Hosts: hosts,
		MaxUpload: o.MaxUpload, MaxPixels: int64(o.Engine.MaxMegapixels * 1e6), ThumbCache: o.ThumbCache,
		Index: serveIndexer(o, storeDir, dirs, stderr),
		Log:   func(s string) { fmt.Fprintf(stderr, "embedsearch: %s\n", s) },
	})
	if err != nil {
		return nil, nil, err
	}
	return srv, func() {
		srv.Close()
		emb.close()
	}, nil
}

// serveIndexer is the status page's "index now": the store's folders that
// exist and the DIRs serve was given, indexed incrementally (index's use
// case: collection.Open, Collection.Index, Close).
func serveIndexer(o serveOptions, storeDir string, dirs []string, stderr io.Writer) web.Indexer {
	return func(ctx context.Context, progress func(index.Progress)) (index.Stats, error) {
		col, err := collection.Open(ctx, storeDir, collection.Options{Model: o.Engine.Model, ANNThreshold: annThreshold, Note: noteTo(stderr, true)})
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
