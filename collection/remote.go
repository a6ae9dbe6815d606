package collection

import (
	"context"
	"errors"
	"fmt"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// ErrRemote: the use case needs a local store, or, for a remote one, what
// the caller did not give (Act: Options.JournalDir).
var ErrRemote = errors.New("not supported on a remote store")

// Backend is a store that is not a folder on this machine (a vector
// database, package weaviate): what Index and Forget change
// (index.Store), bound to a model like a local store.
type Backend interface {
	index.Store
	// Binding is the model binding recorded with the store; zero for a
	// store that holds none yet.
	Binding() store.Binding
	// Bind records b on a store that has no binding; a store bound to
	// another model refuses with store.ErrModelMismatch.
	Bind(b store.Binding) error
	// Name says which store it is, in messages (a URL).
	Name() string
	// Version changes with every commit that changes the store.
	Version() string
	Close() error
}

// OpenBackend opens the remote store b for change, as Open opens a local
// one: bound to o.Model when set (which must match the store's binding),
// else to the model the store records (a registered id), else, for a new
// store, the built-in model. Close closes b.
func OpenBackend(ctx context.Context, b Backend, o Options) (*Collection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &Collection{dir: b.Name(), o: o, st: b, remote: b}
	have := b.Binding()
	if o.Model == "" && have.ModelID != "" {
		return c, nil // the model opens when Index needs it
	}
	var m *models.Model
	var err error
	if o.Model != "" {
		m, err = models.Open(o.Model)
	} else {
		m, err = models.Builtin()
	}
	if err != nil {
		return nil, err
	}
	if err := c.check(m); err != nil {
		return nil, err
	}
	if have.ModelID == "" {
		if err := b.Bind(index.Binding(m)); err != nil {
			return nil, err
		}
	}
	c.model = m
	return c, nil
}

// BackendModel is the model that embeds queries for the remote store b:
// spec when set (which must match b's binding), else the registered model
// b records. (Model is the same for a local store.)
func BackendModel(b Backend, spec string) (*models.Model, error) {
	c := &Collection{remote: b}
	if spec == "" {
		return c.remoteModel()
	}
	m, err := models.Open(spec)
	if err != nil {
		return nil, err
	}
	return m, c.check(m)
}

// remoteModel opens the model a remote store records, by its id.
func (c *Collection) remoteModel() (*models.Model, error) {
	m, err := models.OpenID(c.remote.Binding().ModelID)
	if err != nil {
		return nil, err
	}
	if err := c.check(m); err != nil {
		return nil, err
	}
	c.model = m
	return m, nil
}

// check refuses a model that does not match the remote store's binding.
func (c *Collection) check(m *models.Model) error {
	have := c.remote.Binding()
	if got := index.Binding(m); have.ModelID != "" && got != have {
		if err := models.RetiredBuiltin(have.ModelID); err != nil {
			return err
		}
		return fmt.Errorf("%w: the store %s holds %s", store.ErrModelMismatch, c.remote.Name(), have.Mismatch(got))
	}
	return nil
}

// Sync lets fill change the local store directly (a mirror of a remote
// store brought in step with it) and commits; Close then brings the
// approximate index along as after any change.
func (c *Collection) Sync(ctx context.Context, fill func(*store.Writer) error) error {
	if c.w == nil {
		return ErrRemote
	}
	c.dirty = true
	if err := fill(c.w); err != nil {
		return err
	}
	return c.w.Commit()
}
