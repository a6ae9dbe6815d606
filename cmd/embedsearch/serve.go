package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/web"
)

const serveDescription = `Serves a browser front end over the store: a search page (drop, paste or pick
an image, or type a text with a text-capable model; click a result for more
like it), a duplicates page (review each group side by side, choose what to
keep, then trash, move, link or delete the rest, journalled, with undo; mark a
group "not duplicates" so neither this page nor 'dedup' proposes it again) and
a status page (with an "index now" button that indexes the store's folders and
any DIRs given). Everything runs through the same library as the CLI.

SECURITY. By default it listens on 127.0.0.1 only. Requests must name this
server in their Host header (no DNS rebinding); every POST carries the page's
CSRF token and no other site's Origin. Bound to any other address it warns
and requires a token (--token, or a random one printed at start) on every
request. Only images the store holds are served, and only while they lie
under the store's folders (symbolic links resolved).

The JSON API behind the pages (/api/status, /api/query, /api/dedup,
/api/apply, /api/undo, /api/notdup, /api/thumb, /api/index) is described in
README.md with curl examples.`

func newServeCommand() *cli.Command {
	return &cli.Command{
		Name:        "serve",
		Usage:       "look at search results and review duplicates in a browser",
		ArgsUsage:   "[DIR...]",
		Description: serveDescription,
		Flags: append([]cli.Flag{
			storeFlag(),
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:7878", Usage: "listen on `HOST:PORT` (port 0: any free port)"},
			&cli.BoolFlag{Name: "open", Usage: "open the page in the default browser"},
			&cli.StringFlag{Name: "token", EnvVars: []string{"EMBEDSEARCH_TOKEN"}, Usage: "require `TOKEN` on every request (default: none on loopback, a random one otherwise)"},
			&cli.IntFlag{Name: "max-upload-mb", Value: web.DefaultMaxUpload >> 20, Usage: "largest uploaded query image, in `MB` (MiB)"},
			&cli.IntFlag{Name: "thumb-cache-mb", Value: web.DefaultThumbCache >> 20, Usage: "cap of the thumbnails kept under the store, in `MB` (MiB; 0: none kept)"},
		}, engineFlags()...),
		Action: func(c *cli.Context) error {
			o := serveOptions{Addr: c.String("addr"), Open: c.Bool("open"), Token: c.String("token"),
				MaxUpload: int64(c.Int("max-upload-mb")) << 20, ThumbCache: int64(c.Int("thumb-cache-mb")) << 20, Dirs: c.Args().Slice()}
			var err error
			if o.Engine, err = engineOptionsFrom(c); err != nil {
				return err
			}
			if !c.IsSet("model") {
				o.Engine.Model = "" // the store's own
			}
			if o.MaxUpload <= 0 {
				return usagef("--max-upload-mb must be positive")
			}
			if o.ThumbCache == 0 {
				o.ThumbCache = -1
			}
			if o.Store, err = storeDir(c); err != nil {
				return err
			}
			return runServe(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// serveOptions are serve's parsed flags.
type serveOptions struct {
	Store      string
	Addr       string
	Open       bool
	Token      string
	MaxUpload  int64
	ThumbCache int64 // negative: no disk cache
	Dirs       []string
	Engine     engineOptions
	// Ready, when set, hears the server's URL once it listens (tests).
	Ready func(url string)
}

func runServe(ctx context.Context, o serveOptions, stdout, stderr io.Writer) error {
	dirs, err := existingDirs("folder", o.Dirs)
	if err != nil {
		return err
	}
	storeDir, err := filepath.Abs(o.Store)
	if isRemote(o.Store) {
		// Served through its mirror (see serveMirror).
		storeDir, err = mirror(ctx, o.Store)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w (another program may use that port: try --addr 127.0.0.1:0)", err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	loopback := addr.IP.IsLoopback()
	if !loopback && o.Token == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		o.Token = hex.EncodeToString(b[:])
	}
	srv, closeServer, err := newServeServer(ctx, o, storeDir, dirs, serveHosts(o.Addr, addr, loopback), stderr)
	if err != nil {
		return err
	}
	defer closeServer()
	url := fmt.Sprintf("http://%s/", hostPort(o.Addr, addr))
	if o.Token != "" {
		url += "?token=" + o.Token
	}
	if !loopback {
		fmt.Fprintf(stderr, "embedsearch: warning: serving on %s, which other machines can reach; every request needs the token\n", addr)
	}
	name := storeDir
	if isRemote(o.Store) {
		name = o.Store
	}
	fmt.Fprintf(stderr, "embedsearch: serving %s at %s (Ctrl-C stops)\n", name, url)
	if o.Ready != nil {
		o.Ready(url)
	}
	if o.Open {
		openBrowser(url, stderr)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// openBrowser starts the system's browser on url; a failure is one line.
func openBrowser(url string, stderr io.Writer) {
	name := "xdg-open"
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name = "explorer"
	}
	if err := exec.Command(name, url).Start(); err != nil {
		fmt.Fprintf(stderr, "embedsearch: --open: %v; open %s yourself\n", err, url)
	}
}
