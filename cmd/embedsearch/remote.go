package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/internal/atomicfile"
	"github.com/embedsearch/embedsearch/store"
	"github.com/embedsearch/embedsearch/weaviatestore"
)

// A --store value is a folder or a Weaviate collection
// (weaviate[s]://HOST:PORT/Collection[?tenant=NAME]). Commands that change
// the store go through collection (OpenBackend for Weaviate); commands
// that read it read a local mirror of the collection (mirrorDir), brought
// in step first, so they answer as they do from a local store.

// isRemote reports whether spec names a Weaviate collection.
func isRemote(spec string) bool { return weaviatestore.IsURL(spec) }

// openCollection opens the store spec names for change.
func openCollection(ctx context.Context, spec string, o collection.Options) (*collection.Collection, error) {
	if !isRemote(spec) {
		return collection.Open(ctx, spec, o)
	}
	l, err := weaviatestore.ParseLocation(spec)
	if err != nil {
		return nil, usageError{err}
	}
	b, err := weaviatestore.Open(ctx, l)
	if err != nil {
		return nil, err
	}
	c, err := collection.OpenBackend(ctx, b, o)
	if err != nil {
		b.Close()
		return nil, err
	}
	return c, nil
}

// remoteStore connects to an existing Weaviate collection for reading.
func remoteStore(ctx context.Context, spec string) (*weaviatestore.Store, error) {
	return openRemote(ctx, spec, weaviatestore.OpenReader)
}

// openRemote connects to an existing Weaviate collection with open
// (weaviatestore.OpenReader or OpenSearcher).
func openRemote(ctx context.Context, spec string, open func(context.Context, weaviatestore.Location) (*weaviatestore.Store, error)) (*weaviatestore.Store, error) {
	l, err := weaviatestore.ParseLocation(spec)
	if err != nil {
		return nil, usageError{err}
	}
	b, err := open(ctx, l)
	if errors.Is(err, weaviatestore.ErrNotExist) {
		return nil, fmt.Errorf("no store at %s: run 'embedsearch index DIR --store %s' first", l, l)
	}
	return b, err
}

// storeRoots are the roots the store spec names records (none when it
// cannot be read).
func storeRoots(ctx context.Context, spec string) []string {
	if isRemote(spec) {
		l, err := weaviatestore.ParseLocation(spec)
		if err != nil {
			return nil
		}
		b, err := weaviatestore.OpenReader(ctx, l)
		if err != nil {
			return nil
		}
		defer b.Close()
		return b.Roots()
	}
	r, err := store.Open(spec)
	if err != nil {
		return nil
	}
	defer r.Close()
	return r.Roots()
}

// openReader opens the store spec names for reading: a folder, or the
// local mirror of a Weaviate collection brought in step with it.
func openReader(ctx context.Context, spec string) (*store.Reader, error) {
	if !isRemote(spec) {
		return openStore(spec)
	}
	dir, err := mirror(ctx, spec)
	if err != nil {
		return nil, err
	}
	return openStore(dir)
}

// mirror brings the local mirror of the Weaviate collection spec in step
// and returns its folder.
func mirror(ctx context.Context, spec string) (string, error) {
	b, err := remoteStore(ctx, spec)
	if err != nil {
		return "", err
	}
	defer b.Close()
	dir, err := mirrorDir(b.Location())
	if err != nil {
		return "", err
	}
	// Nothing written since the last mirror: nothing to read. (The version
	// is read before the objects: a commit that lands while they are read
	// leaves another version for next time.)
	seen, _ := os.ReadFile(filepath.Join(dir, mirrorVersion))
	if v := b.Version(); v != "" && string(seen) == v {
		if r, err := store.Open(dir); err == nil && r.Model() == b.Binding() {
			r.Close()
			return dir, nil
		}
	}
	if r, err := store.Open(dir); err == nil {
		r.Close()
	} else if errors.Is(err, store.ErrNotExist) {
		w, err := store.OpenWriter(dir, b.Binding(), store.WriterOptions{})
		if err != nil {
			return "", fmt.Errorf("mirror of %s in %s: %w", spec, dir, err)
		}
		if err := w.Close(); err != nil {
			return "", err
		}
	}
	col, err := collection.Open(ctx, dir, collection.Options{ANNThreshold: annThreshold})
	if errors.Is(err, store.ErrModelMismatch) {
		// The collection was made anew with another model: so is the mirror.
		if err = os.RemoveAll(dir); err == nil {
			return mirror(ctx, spec)
		}
	}
	if err != nil {
		return "", fmt.Errorf("mirror of %s in %s: %w (removing that folder makes it anew)", spec, dir, err)
	}
	defer col.Close(ctx)
	if err := col.Sync(ctx, func(w *store.Writer) error { return b.Mirror(ctx, w) }); err != nil {
		return "", err
	}
	if err := col.Close(ctx); err != nil {
		return "", err
	}
	return dir, atomicfile.Write(dir, mirrorVersion, func(w io.Writer) (int64, error) {
		n, err := io.WriteString(w, b.Version())
		return int64(n), err
	})
}

// mirrorVersion is the file in a mirror that holds the collection's
// version it was last brought in step with.
const mirrorVersion = "weaviate-version"

// envMirror names the folder that holds the mirrors of Weaviate stores
// (default: the user's cache folder's embedsearch/weaviate).
const envMirror = "EMBEDSEARCH_WEAVIATE_MIRRORS"

// mirrorDir is where the mirror of l lives: one folder per collection and
// tenant.
func mirrorDir(l weaviatestore.Location) (string, error) {
	base := os.Getenv(envMirror)
	if base == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no cache folder for the mirror of %s (set $%s): %w", l, envMirror, err)
		}
		base = filepath.Join(cache, "embedsearch", "weaviate")
	}
	sum := sha256.Sum256([]byte(l.Scheme + "://" + l.Host + "/" + l.Class + "\x00" + l.Tenant))
	return filepath.Join(base, l.Class+"-"+hex.EncodeToString(sum[:8])), nil
}

// remoteActOptions are the collection options for dedup actions on the
// Weaviate collection spec, whose mirror r the groups came from: the
// version the mirror was brought in step with (Act refuses a collection
// changed since) and the folder of the journals. A mirror brought in step
// again since r was read is collection.ErrStoreChanged.
func remoteActOptions(spec string, r *store.Reader) (collection.Options, error) {
	l, err := weaviatestore.ParseLocation(spec)
	if err != nil {
		return collection.Options{}, usageError{err}
	}
	dir, err := mirrorDir(l)
	if err != nil {
		return collection.Options{}, err
	}
	now, err := store.Open(dir)
	if err != nil {
		return collection.Options{}, fmt.Errorf("mirror of %s: %w", spec, err)
	}
	gen := now.Generation()
	now.Close()
	if gen != r.Generation() {
		return collection.Options{}, collection.ErrStoreChanged
	}
	seen, err := os.ReadFile(filepath.Join(dir, mirrorVersion))
	if err != nil {
		return collection.Options{}, fmt.Errorf("mirror of %s: %w", spec, err)
	}
	jdir, err := journalDir(l)
	return collection.Options{Snapshot: string(seen), JournalDir: jdir}, err
}

// journalDir is the folder of the dedup journals of the Weaviate
// collection l: in the user's data folder, not beside the mirror (a
// cache, which may be removed), one folder per collection and tenant:
// $XDG_DATA_HOME/embedsearch/weaviate/NAME/journals.
func journalDir(l weaviatestore.Location) (string, error) {
	data, err := dataDir()
	if err != nil {
		return "", err
	}
	m, err := mirrorDir(l)
	if err != nil {
		return "", err
	}
	return filepath.Join(data, "weaviate", filepath.Base(m), "journals"), nil
}

// openExisting opens the store name names for change (nil when there is
// none), for undo: a folder, or a Weaviate collection.
func openExisting(ctx context.Context, name string) (*collection.Collection, error) {
	if !isRemote(name) {
		return collection.OpenExisting(ctx, name)
	}
	l, err := weaviatestore.ParseLocation(name)
	if err != nil {
		return nil, err
	}
	b, err := weaviatestore.OpenReader(ctx, l)
	if errors.Is(err, weaviatestore.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b.Close()
	return openCollection(ctx, name, collection.Options{})
}
