package weaviatestore

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
)

// ErrNoWhere: a restriction has no Weaviate where filter that selects
// exactly what the local catalogue selects (the caller then filters
// another way, e.g. on a mirror).
var ErrNoWhere = errors.New("no exact where filter")

// A Filter restricts Search to the images whose properties match every
// restriction added to it; the zero Filter matches every image. Only what
// maps exactly onto the collection's field-tokenized properties is
// accepted (see Match), so a filtered search selects the same images as
// the same filter on a local store's catalogue.
type Filter struct {
	ops []*filters.WhereBuilder
}

// Match adds a catalogue filter (store.ParseFilter's query): every clause
// must hold, and a clause under must-not must not. Mapped clauses: path
// (a value, quoted or not, or a pattern with * and ?), hash, and size, width
// and height (a number or a range). Any other field (name, ext and format are
// lower-cased by the catalogue, make, model and camera split into words,
// dates and GPS kept differently) is ErrNoWhere, and f is left unchanged.
func (f *Filter) Match(q query.Query) error {
	var ops []*filters.WhereBuilder
	push := func(w *filters.WhereBuilder, not bool) error {
		if not {
			w = filters.Where().WithOperator(filters.Not).WithOperands([]*filters.WhereBuilder{w})
		}
		ops = append(ops, w)
		return nil
	}
	var add func(q query.Query, not bool) error
	add = func(q query.Query, not bool) error {
		switch v := q.(type) {
		case *query.BooleanQuery:
			if not || v.Should != nil {
				return fmt.Errorf("%w: a nested or optional clause", ErrNoWhere)
			}
			if v.Must != nil {
				if err := add(v.Must, false); err != nil {
					return err
				}
			}
			if v.MustNot != nil {
				return add(v.MustNot, true)
			}
			return nil
		case *query.ConjunctionQuery:
			if not && len(v.Conjuncts) > 1 {
				return fmt.Errorf("%w: a negated conjunction", ErrNoWhere)
			}
			for _, c := range v.Conjuncts {
				if err := add(c, not); err != nil {
					return err
				}
			}
			return nil
		case *query.DisjunctionQuery:
			// Under must-not, each disjunct is excluded on its own (but
			// field:1000 is one clause, see clause).
			if w, err := clause(v); err == nil {
				return push(w, not)
			}
			if len(v.Disjuncts) == 1 || not {
				for _, c := range v.Disjuncts {
					if err := add(c, not); err != nil {
						return err
					}
				}
				return nil
			}
		case *query.MatchAllQuery:
			if !not {
				return nil
			}
		}
		w, err := clause(q)
		if err != nil {
			return err
		}
		return push(w, not)
	}
	if err := add(q, false); err != nil {
		return err
	}
	f.ops = append(f.ops, ops...)
	return nil
}

// clause maps one catalogue clause.
func clause(q query.Query) (*filters.WhereBuilder, error) {
	text := func(field, value string) (*filters.WhereBuilder, error) {
		switch {
		case value == "":
			return nil, fmt.Errorf("%w: an empty value", ErrNoWhere)
		case field == "path":
			return eq("path", value), nil
		case field == "hash":
			return eq("sha256", value), nil
		}
		return nil, fmt.Errorf("%w: field %q", ErrNoWhere, field)
	}
	switch v := q.(type) {
	case *query.MatchQuery:
		if v.Fuzziness != 0 {
			return nil, fmt.Errorf("%w: a fuzzy match", ErrNoWhere)
		}
		return text(v.FieldVal, v.Match)
	case *query.MatchPhraseQuery:
		// A quoted value: on a keyword field the catalogue matches the
		// whole value (store.Reader.Filter), as unquoted; on make, model
		// and camera it is a phrase of words, which text refuses.
		if v.Fuzziness != 0 {
			return nil, fmt.Errorf("%w: a fuzzy match", ErrNoWhere)
		}
		return text(v.FieldVal, v.MatchPhrase)
	case *query.TermQuery:
		return text(v.FieldVal, v.Term)
	case *query.WildcardQuery:
		if v.FieldVal != "path" || v.Wildcard == "" {
			return nil, fmt.Errorf("%w: a pattern on %q", ErrNoWhere, v.FieldVal)
		}
		// The catalogue's path is one keyword and its patterns have the
		// same two wildcards as Like: * (any run) and ? (one character).
		return like("path", v.Wildcard), nil
	case *query.PrefixQuery:
		if v.FieldVal != "path" || strings.ContainsAny(v.Prefix, "*?") {
			return nil, fmt.Errorf("%w: a prefix on %q", ErrNoWhere, v.FieldVal)
		}
		return like("path", v.Prefix+"*"), nil
	case *query.NumericRangeQuery:
		return intRange(v)
	case *query.DisjunctionQuery:
		// field:1000 parses as (match "1000" or the range [1000, 1000]):
		// in a number field the match finds nothing, in a text field the
		// range.
		if len(v.Disjuncts) == 2 {
			m, ok1 := v.Disjuncts[0].(*query.MatchQuery)
			r, ok2 := v.Disjuncts[1].(*query.NumericRangeQuery)
			if ok1 && ok2 && m.FieldVal == r.FieldVal {
				if w, err := intRange(r); err == nil {
					return w, nil
				}
				return clause(m)
			}
		}
	}
	return nil, fmt.Errorf("%w: %T", ErrNoWhere, q)
}

// intRange maps a range over size, width or height (integers: a bound
// between two integers becomes the integer inside the range).
func intRange(r *query.NumericRangeQuery) (*filters.WhereBuilder, error) {
	switch r.FieldVal {
	case "size", "width", "height":
	default:
		return nil, fmt.Errorf("%w: a range on %q", ErrNoWhere, r.FieldVal)
	}
	var ops []*filters.WhereBuilder
	bound := func(x *float64, incl *bool, lower bool) error {
		if x == nil {
			return nil
		}
		if math.IsNaN(*x) || math.Abs(*x) > 1<<53 {
			return fmt.Errorf("%w: bound %v", ErrNoWhere, *x)
		}
		in := incl != nil && *incl
		n := *x
		if n != math.Trunc(n) {
			in = true
			if lower {
				n = math.Ceil(n)
			} else {
				n = math.Floor(n)
			}
		}
		op := map[[2]bool]filters.WhereOperator{{true, true}: filters.GreaterThanEqual, {true, false}: filters.GreaterThan,
			{false, true}: filters.LessThanEqual, {false, false}: filters.LessThan}[[2]bool{lower, in}]
		ops = append(ops, filters.Where().WithPath([]string{r.FieldVal}).WithOperator(op).WithValueInt(int64(n)))
		return nil
	}
	if err := bound(r.Min, r.InclusiveMin, true); err != nil {
		return nil, err
	}
	if err := bound(r.Max, r.InclusiveMax, false); err != nil {
		return nil, err
	}
	switch len(ops) {
	case 0:
		return nil, fmt.Errorf("%w: an open range", ErrNoWhere)
	case 1:
		return ops[0], nil
	}
	return filters.Where().WithOperator(filters.And).WithOperands(ops), nil
}

// Under keeps the images under one of dirs (absolute folders, as query's
// --in); a folder whose name holds * or ? is ErrNoWhere (Like would read
// them as wildcards), and f is left unchanged.
func (f *Filter) Under(dirs []string) error {
	if len(dirs) == 0 {
		return nil
	}
	var either []*filters.WhereBuilder
	for _, d := range dirs {
		if d == "" || strings.ContainsAny(d, "*?") {
			return fmt.Errorf("%w: folder %q", ErrNoWhere, d)
		}
		// As fspath.Within: the folder itself, or a path below it.
		either = append(either, eq("path", d), like("path", strings.TrimSuffix(d, string(os.PathSeparator))+string(os.PathSeparator)+"*"))
	}
	f.ops = append(f.ops, filters.Where().WithOperator(filters.Or).WithOperands(either))
	return nil
}

// Except leaves out the images at paths (as stored).
func (f *Filter) Except(paths ...string) {
	for _, p := range paths {
		f.ops = append(f.ops, filters.Where().WithPath([]string{"path"}).WithOperator(filters.NotEqual).WithValueText(p))
	}
}

// where is the filter for Weaviate (nil: none).
func (f *Filter) where() *filters.WhereBuilder {
	switch {
	case f == nil || len(f.ops) == 0:
		return nil
	case len(f.ops) == 1:
		return f.ops[0]
	}
	return filters.Where().WithOperator(filters.And).WithOperands(f.ops)
}

func eq(field, value string) *filters.WhereBuilder {
	return filters.Where().WithPath([]string{field}).WithOperator(filters.Equal).WithValueText(value)
}

func like(field, pattern string) *filters.WhereBuilder {
	return filters.Where().WithPath([]string{field}).WithOperator(filters.Like).WithValueText(pattern)
}
