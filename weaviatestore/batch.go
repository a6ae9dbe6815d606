package weaviatestore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/embedsearch/embedsearch/store"
)

// Commit writes the pending objects (batches of batchSize, retried with
// back-off), deletes the deleted ones, and records the roots and a new
// Version when anything changed. Objects that still fail are ErrObjects,
// each named; the rest is committed.
func (s *Store) Commit() error {
	ctx := s.ctx
	if !s.exists && (len(s.pending) > 0 || s.meta) {
		return fmt.Errorf("weaviate %s: the collection has no model binding yet", s.loc)
	}
	var failed []error
	changed := len(s.deleted) > 0
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(s.pending)), batchSize) {
		objs := make([]*models.Object, len(chunk))
		for i, id := range chunk {
			p := s.pending[id]
			objs[i] = &models.Object{Class: s.loc.Class, ID: strfmt.UUID(id), Tenant: s.loc.Tenant,
				Properties: properties(p.e), Vector: p.vec}
		}
		errs, err := s.write(ctx, objs)
		if err != nil {
			return err
		}
		for i, id := range chunk {
			p := s.pending[id]
			if e := errs[i]; e != nil {
				failed = append(failed, fmt.Errorf("%s: %v", p.e.Path, e))
				continue
			}
			s.commitPut(id, p.e)
			delete(s.pending, id)
			changed = true
		}
	}
	if err := s.deleteObjects(ctx); err != nil {
		return err
	}
	if s.meta || changed {
		if err := s.writeMeta(ctx); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w (%d): %w", ErrObjects, len(failed), errors.Join(failed...))
	}
	return nil
}

func (s *Store) commitPut(id string, e store.Entry) {
	if old, ok := s.cat[id]; ok {
		if old.SHA256 != "" && s.byHash[old.SHA256] == id {
			delete(s.byHash, old.SHA256)
		}
		if s.byPath[old.Path] == id {
			delete(s.byPath, old.Path)
		}
	}
	s.cat[id] = &e
	s.byPath[e.Path] = id
	if e.SHA256 != "" {
		s.byHash[e.SHA256] = id
	}
}

// write sends objs as one batch, retrying the whole batch on transient
// errors and the objects Weaviate refused, and returns each object's
// final error (nil when written).
func (s *Store) write(ctx context.Context, objs []*models.Object) ([]error, error) {
	errs := make([]error, len(objs))
	todo := make([]int, len(objs))
	for i := range todo {
		todo[i] = i
	}
	wait := firstWait
	for attempt := 1; len(todo) > 0; attempt++ {
		batch := make([]*models.Object, len(todo))
		for j, i := range todo {
			batch[j] = objs[i]
		}
		var res []models.ObjectsGetResponse
		err := retry(ctx, func() error {
			var err error
			res, err = s.c.Batch().ObjectsBatcher().WithObjects(batch...).WithConsistencyLevel(s.loc.Consistency).Do(ctx)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("weaviate %s: batch import: %w", s.loc, err)
		}
		var again []int
		for j, i := range todo {
			errs[i] = nil
			if j < len(res) {
				if e := objectError(res[j]); e != nil {
					errs[i] = e
					again = append(again, i)
				}
			}
		}
		todo = again
		if len(todo) == 0 || attempt == attempts {
			break
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, maxWait)
	}
	return errs, nil
}

func objectError(r models.ObjectsGetResponse) error {
	if r.Result == nil || r.Result.Errors == nil || len(r.Result.Errors.Error) == 0 {
		return nil
	}
	var msgs []error
	for _, e := range r.Result.Errors.Error {
		msgs = append(msgs, errors.New(e.Message))
	}
	return errors.Join(msgs...)
}

// deleteObjects deletes the deleted objects by ID, in batches.
func (s *Store) deleteObjects(ctx context.Context) error {
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(s.deleted)), deleteBatch) {
		where := filters.Where().WithPath([]string{"id"}).WithOperator(filters.ContainsAny).WithValueText(chunk...)
		err := retry(ctx, func() error {
			d := s.c.Batch().ObjectsBatchDeleter().WithClassName(s.loc.Class).WithWhere(where).
				WithConsistencyLevel(s.loc.Consistency).WithOutput("minimal")
			if s.loc.Tenant != "" {
				d = d.WithTenant(s.loc.Tenant)
			}
			res, err := d.Do(ctx)
			if err == nil && res != nil && res.Results != nil && res.Results.Failed > 0 {
				return fmt.Errorf("%d deletions failed", res.Results.Failed)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("weaviate %s: delete: %w", s.loc, err)
		}
		for _, id := range chunk {
			if e, ok := s.cat[id]; ok {
				if s.byHash[e.SHA256] == id {
					delete(s.byHash, e.SHA256)
				}
				if s.byPath[e.Path] == id {
					delete(s.byPath, e.Path)
				}
				delete(s.cat, id)
			}
			delete(s.deleted, id)
		}
	}
	return nil
}

// writeMeta records the roots (merged with what other writers recorded
// meanwhile), the last run, and a new version: written after the objects,
// so a reader that read the version before the objects sees another one
// next time.
func (s *Store) writeMeta(ctx context.Context) error {
	var objs []*models.Object
	for r, add := range s.added {
		if add {
			objs = append(objs, &models.Object{Class: s.loc.Class, ID: strfmt.UUID(rootID(r)), Tenant: s.loc.Tenant,
				Properties: map[string]interface{}{"kind": kindRoot, "path": r}})
			continue
		}
		err := retry(ctx, func() error {
			d := s.c.Data().Deleter().WithClassName(s.loc.Class).WithID(rootID(r)).WithConsistencyLevel(s.loc.Consistency)
			if s.loc.Tenant != "" {
				d = d.WithTenant(s.loc.Tenant)
			}
			err := d.Do(ctx)
			if httpStatus(err) == http.StatusNotFound {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("weaviate %s: forget root %s: %w", s.loc, r, err)
		}
	}
	if len(objs) > 0 {
		errs, err := s.write(ctx, objs)
		if err != nil {
			return err
		}
		for i, e := range errs {
			if e != nil {
				return fmt.Errorf("weaviate %s: record root %s: %w", s.loc, objs[i].Properties.(map[string]interface{})["path"], e)
			}
		}
	}
	clear(s.added)
	if err := s.readMeta(ctx); err != nil {
		return err
	}
	p := map[string]interface{}{"kind": kindMeta,
		"last_indexed": timeText(s.runAt), "failed": int64(s.failed), "version": uuid.NewString()}
	errs, err := s.write(ctx, []*models.Object{{Class: s.loc.Class, ID: strfmt.UUID(metaID), Tenant: s.loc.Tenant, Properties: p}})
	if err != nil {
		return err
	}
	if errs[0] != nil {
		return fmt.Errorf("weaviate %s: record the roots: %w", s.loc, errs[0])
	}
	s.meta = false
	return nil
}
