package weaviatestore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/auth"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/data"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/embedsearch/embedsearch/store"
)

// ErrNotExist: the Weaviate collection (or its tenant) does not exist yet.
var ErrNotExist = errors.New("no such weaviate collection")

// ErrObjects: some objects could not be written after every retry; the
// error names each one. Nothing else of the batch is lost, and the next
// index run writes them again.
var ErrObjects = errors.New("weaviate refused some objects")

// Batch sizes and retries.
const (
	batchSize   = 200
	deleteBatch = 500
	pageSize    = 500
	attempts    = 6
	firstWait   = 250 * time.Millisecond
	maxWait     = 8 * time.Second
)

// Store is one Weaviate collection (and tenant) under change; see the
// package doc. Its index.Store methods use the context Open was given.
type Store struct {
	loc     Location
	c       *weaviate.Client
	ctx     context.Context
	binding store.Binding
	exists  bool  // the class exists (with its tenant)
	factor  int64 // its replication factor

	cat    map[string]*store.Entry // object ID → entry, as committed
	byHash map[string]string       // SHA-256 → object ID
	byPath map[string]string       // stored path → object ID
	roots  []string

	pending map[string]put  // object ID → what to write
	deleted map[string]bool // object ID → to delete
	meta    bool            // roots or run stats changed
	added   map[string]bool // roots added (true) or removed (false) here
	runAt   time.Time       // the last index run: as read, or as SetRunStats set it
	failed  int
	runSet  bool
	version string // as read: changes with every Commit that changes something
}

type put struct {
	e   store.Entry
	vec []float32
}

// Open connects to l and reads the collection's binding, roots and
// catalogue (without vectors). A missing collection is no error here: it
// is created by Bind.
func Open(ctx context.Context, l Location) (*Store, error) {
	s, err := connect(ctx, l)
	if err != nil {
		return nil, err
	}
	if err := s.load(ctx); err != nil && !errors.Is(err, ErrNotExist) {
		return nil, err
	}
	return s, nil
}

// OpenReader connects to an existing collection for reading: its binding
// and roots, no catalogue.
func OpenReader(ctx context.Context, l Location) (*Store, error) {
	s, err := connect(ctx, l)
	if err != nil {
		return nil, err
	}
	if err := s.readClass(ctx); err != nil {
		return nil, err
	}
	return s, s.readMeta(ctx)
}

// OpenSearcher connects to an existing collection for Search, Lookup and
// Count: its binding only (one request), no roots, last run or version.
func OpenSearcher(ctx context.Context, l Location) (*Store, error) {
	s, err := connect(ctx, l)
	if err != nil {
		return nil, err
	}
	return s, s.readClass(ctx)
}

func connect(ctx context.Context, l Location) (*Store, error) {
	cfg := weaviate.Config{Host: l.Host, Scheme: l.Scheme, StartupTimeout: 0,
		GrpcConfig: &grpc.Config{Host: l.GRPC, Secured: l.Scheme == "https"}}
	if l.APIKey != "" {
		cfg.AuthConfig = auth.ApiKey{Value: l.APIKey}
	}
	var c *weaviate.Client
	err := retry(ctx, func() error {
		var err error
		c, err = weaviate.NewClient(cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("weaviate %s: %w", l, err)
	}
	return &Store{loc: l, c: c, ctx: ctx, cat: map[string]*store.Entry{}, byHash: map[string]string{}, byPath: map[string]string{},
		pending: map[string]put{}, deleted: map[string]bool{}, added: map[string]bool{}}, nil
}

// Name is the store's URL.
func (s *Store) Name() string { return s.loc.String() }

// Location is where the store is.
func (s *Store) Location() Location { return s.loc }

// Binding is the model binding the collection records (zero when new).
func (s *Store) Binding() store.Binding { return s.binding }

// Len is the number of images in the catalogue.
func (s *Store) Len() int { return len(s.cat) }

func (s *Store) readClass(ctx context.Context) error {
	var c *models.Class
	err := retry(ctx, func() error {
		var err error
		c, err = s.c.Schema().ClassGetter().WithClassName(s.loc.Class).Do(ctx)
		return err
	})
	if httpStatus(err) == http.StatusNotFound {
		return fmt.Errorf("%w: %s", ErrNotExist, s.loc)
	}
	if err != nil {
		return fmt.Errorf("weaviate %s: %w", s.loc, err)
	}
	b, err := bindingOf(c)
	if err != nil {
		return err
	}
	mt := c.MultiTenancyConfig != nil && c.MultiTenancyConfig.Enabled
	switch {
	case mt && s.loc.Tenant == "":
		return fmt.Errorf("weaviate collection %s holds several tenants: add ?tenant=NAME to the URL", s.loc.Class)
	case !mt && s.loc.Tenant != "":
		return fmt.Errorf("weaviate collection %s has no tenants: drop ?tenant= from the URL", s.loc.Class)
	}
	s.binding, s.exists, s.factor = b, true, 1
	if c.ReplicationConfig != nil {
		s.factor = c.ReplicationConfig.Factor
	}
	return nil
}

// load reads the binding, the roots and the catalogue.
func (s *Store) load(ctx context.Context) error {
	if err := s.readClass(ctx); err != nil {
		return err
	}
	if err := s.ensureTenant(ctx); err != nil {
		return err
	}
	if err := s.readMeta(ctx); err != nil {
		return err
	}
	return s.Each(ctx, false, func(e store.Entry, _ []float32) error {
		id := ObjectID(e.Path)
		s.cat[id] = &e
		s.byPath[e.Path] = id
		if e.SHA256 != "" {
			s.byHash[e.SHA256] = id
		}
		return nil
	})
}

// Bind creates the collection bound to b (or checks the binding of one
// that exists, possibly created meanwhile by another process).
func (s *Store) Bind(b store.Binding) error {
	if s.exists {
		if s.binding != b {
			return fmt.Errorf("%w: the store %s holds %s", store.ErrModelMismatch, s.loc, s.binding.Mismatch(b))
		}
		return nil
	}
	c, err := class(s.loc, b)
	if err != nil {
		return err
	}
	err = retry(s.ctx, func() error { return s.c.Schema().ClassCreator().WithClass(c).Do(s.ctx) })
	if err != nil && httpStatus(err) != http.StatusUnprocessableEntity { // 422: made meanwhile
		return fmt.Errorf("weaviate %s: create the collection: %w", s.loc, err)
	}
	if err := s.readClass(s.ctx); err != nil {
		return err
	}
	if err := s.ensureTenant(s.ctx); err != nil {
		return err
	}
	return s.Bind(b)
}

func (s *Store) ensureTenant(ctx context.Context) error {
	if s.loc.Tenant == "" {
		return nil
	}
	var ts []models.Tenant
	err := retry(ctx, func() error {
		var err error
		ts, err = s.c.Schema().TenantsGetter().WithClassName(s.loc.Class).Do(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("weaviate %s: tenants: %w", s.loc, err)
	}
	for _, t := range ts {
		if t.Name == s.loc.Tenant {
			return nil
		}
	}
	err = retry(ctx, func() error {
		return s.c.Schema().TenantsCreator().WithClassName(s.loc.Class).WithTenants(models.Tenant{Name: s.loc.Tenant}).Do(ctx)
	})
	if err != nil && httpStatus(err) != http.StatusUnprocessableEntity {
		return fmt.Errorf("weaviate %s: create tenant: %w", s.loc, err)
	}
	return nil
}

// readMeta reads the tenant's roots, last run and version.
func (s *Store) readMeta(ctx context.Context) error {
	var objs []*models.Object
	err := retry(ctx, func() error {
		var err error
		objs, err = s.getter().WithID(metaID).Do(ctx)
		return err
	})
	if httpStatus(err) == http.StatusNotFound {
		return s.readRoots(ctx)
	}
	if err != nil {
		return fmt.Errorf("weaviate %s: read the last run: %w", s.loc, err)
	}
	if len(objs) == 1 {
		if p, ok := objs[0].Properties.(map[string]interface{}); ok {
			s.version = str(p["version"])
			if !s.runSet {
				s.runAt, _ = textTime(str(p["last_indexed"]))
				s.failed = int(num(p["failed"]))
			}
		}
	}
	return s.readRoots(ctx)
}

// rootID is the ID of the object that records root: one object a root,
// so writers that add roots at once never overwrite each other's.
func rootID(root string) string { return uuidOf("embedsearch root\x00" + root) }

// readRoots reads the tenant's roots.
func (s *Store) readRoots(ctx context.Context) error {
	resp, err := s.get(ctx, func() *graphql.GetBuilder {
		return s.c.GraphQL().Get().WithClassName(s.loc.Class).WithLimit(10000).
			WithWhere(filters.Where().WithPath([]string{"kind"}).WithOperator(filters.Equal).WithValueText(kindRoot)).
			WithFields(graphql.Field{Name: "path"})
	})
	if err != nil {
		return fmt.Errorf("weaviate %s: read roots: %w", s.loc, err)
	}
	get, _ := resp.Data["Get"].(map[string]interface{})
	rows, _ := get[s.loc.Class].([]interface{})
	s.roots = s.roots[:0]
	for _, r := range rows {
		m, _ := r.(map[string]interface{})
		if p := str(m["path"]); p != "" {
			s.roots = append(s.roots, p)
		}
	}
	slices.Sort(s.roots)
	return nil
}

func (s *Store) getter() *data.ObjectsGetter {
	g := s.c.Data().ObjectsGetter().WithClassName(s.loc.Class).WithConsistencyLevel(s.loc.Consistency)
	if s.loc.Tenant != "" {
		g = g.WithTenant(s.loc.Tenant)
	}
	return g
}

// Stat is the size and mtime stored for the file at path (found by its
// identity: under another mount path of the same library too).
func (s *Store) Stat(path string) (int64, time.Time, bool) {
	e, ok := s.Get(path)
	return e.Size, e.ModTime, ok
}

// Get is the entry of the file at path, as it will be after Commit.
func (s *Store) Get(path string) (store.Entry, bool) {
	id := ObjectID(path)
	if p, ok := s.pending[id]; ok {
		return p.e, true
	}
	if e, ok := s.cat[id]; ok && !s.deleted[id] {
		return *e, true
	}
	return store.Entry{}, false
}

// HasSignature reports whether the entry at path has a dedup signature.
func (s *Store) HasSignature(path string) bool {
	e, ok := s.Get(path)
	return ok && len(e.Signature) > 0
}

// Vector fetches the vector stored for path.
func (s *Store) Vector(path string) ([]float32, bool) {
	id := ObjectID(path)
	if p, ok := s.pending[id]; ok {
		return slices.Clone(p.vec), true
	}
	if _, ok := s.cat[id]; !ok || s.deleted[id] {
		return nil, false
	}
	v, err := s.vector(id)
	return v, err == nil
}

func (s *Store) vector(id string) ([]float32, error) {
	var objs []*models.Object
	err := retry(s.ctx, func() error {
		var err error
		objs, err = s.getter().WithID(id).WithVector().Do(s.ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 || len(objs[0].Vector) != s.binding.Dim {
		return nil, fmt.Errorf("object %s: no vector of dimension %d", id, s.binding.Dim)
	}
	return []float32(objs[0].Vector), nil
}

// ByHash finds stored content by SHA-256, with its vector.
func (s *Store) ByHash(sha string) (store.Entry, []float32, bool) {
	if sha == "" {
		return store.Entry{}, nil, false
	}
	for _, p := range s.pending {
		if p.e.SHA256 == sha {
			return p.e, slices.Clone(p.vec), true
		}
	}
	id, ok := s.byHash[sha]
	if !ok {
		return store.Entry{}, nil, false
	}
	e, ok := s.cat[id]
	if !ok {
		return store.Entry{}, nil, false
	}
	v, err := s.vector(id)
	if err != nil {
		return store.Entry{}, nil, false
	}
	return *e, v, true
}

// Walk calls fn with every stored path until fn returns false.
func (s *Store) Walk(fn func(path string) bool) {
	for id, e := range s.cat {
		if s.deleted[id] {
			continue
		}
		if _, ok := s.pending[id]; ok {
			continue
		}
		if !fn(e.Path) {
			return
		}
	}
	for _, p := range s.pending {
		if !fn(p.e.Path) {
			return
		}
	}
}

// Put stores e with vec at the next Commit.
func (s *Store) Put(e store.Entry, vec []float32) error {
	if len(vec) != s.binding.Dim {
		return fmt.Errorf("put %s: vector length %d, store dimension %d", e.Path, len(vec), s.binding.Dim)
	}
	id := ObjectID(e.Path)
	e.Signature = slices.Clone(e.Signature)
	s.pending[id] = put{e: e, vec: slices.Clone(vec)}
	delete(s.deleted, id)
	return nil
}

// Delete removes path at the next Commit; it reports whether there was
// such an entry. The entry stored under path itself is the one removed
// when there is one: the file may be gone, or be a symbolic link now (a
// dedup action), whose identity is its target's.
func (s *Store) Delete(path string) bool {
	id, ok := s.byPath[path]
	if !ok {
		id = ObjectID(path)
	}
	_, had := s.pending[id]
	delete(s.pending, id)
	if _, ok := s.cat[id]; ok && !s.deleted[id] {
		s.deleted[id] = true
		had = true
	}
	return had
}

// Roots are the folders kept in step.
func (s *Store) Roots() []string { return slices.Clone(s.roots) }

// AddRoots records roots.
func (s *Store) AddRoots(roots ...string) {
	for _, r := range roots {
		if !slices.Contains(s.roots, r) {
			s.roots = append(s.roots, r)
			s.meta = true
		}
		s.added[r] = true
	}
	slices.Sort(s.roots)
}

// RemoveRoots forgets roots.
func (s *Store) RemoveRoots(roots ...string) {
	n := len(s.roots)
	s.roots = slices.DeleteFunc(s.roots, func(r string) bool { return slices.Contains(roots, r) })
	s.meta = s.meta || len(s.roots) != n
	for _, r := range roots {
		s.added[r] = false
	}
}

// SetRunStats records when an index run ended and how many files failed.
func (s *Store) SetRunStats(at time.Time, failed int) {
	s.runAt, s.failed, s.runSet, s.meta = at, failed, true, true
}

// Version changes with every commit that changes the collection (or its
// tenant): a reader that finds the version it saw last time needs to read
// nothing else. "" for a collection never written.
func (s *Store) Version() string { return s.version }

// LastRun is when the last index run ended and how many files failed in
// it (zero time: never).
func (s *Store) LastRun() (time.Time, int) { return s.runAt, s.failed }

// Compact does nothing: Weaviate compacts its own segments.
func (s *Store) Compact() error { return nil }

// Close drops what is not committed. (The client keeps its HTTP and gRPC
// connections for the process: it has nothing to close them with.)
func (s *Store) Close() error { return nil }
