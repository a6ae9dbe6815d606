package store

import (
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"
)

// fieldKind is how a catalog field is indexed, and so what a filter clause
// can compare it with.
type fieldKind int

const (
	fieldExact  fieldKind = iota // keyword, compared as it is
	fieldLower                   // keyword, lower-cased
	fieldWords                   // text, split into words, case-insensitive
	fieldNumber                  // numbers: width:>1000
	fieldDate                    // dates: taken:>"2021-01-01"
)

// catalogFields are the filter fields (doc.go's "Filter fields"), in the
// order error messages list them; catalogMapping indexes each as its kind.
var catalogFields = []struct {
	name string
	kind fieldKind
}{
	{"path", fieldExact}, {"dir", fieldExact}, {"name", fieldLower}, {"ext", fieldLower}, {"format", fieldLower},
	{"hash", fieldExact}, {"size", fieldNumber}, {"width", fieldNumber}, {"height", fieldNumber},
	{"mtime", fieldDate}, {"taken", fieldDate}, {"make", fieldWords}, {"model", fieldWords}, {"camera", fieldWords},
	{"gps", fieldExact}, {"lat", fieldNumber}, {"lon", fieldNumber},
}

func fieldNames() string {
	names := make([]string, len(catalogFields))
	for i, f := range catalogFields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// checkFilter refuses a parsed filter with a clause that could only match
// nothing by mistake: a field the catalog does not have (a typo such as
// widht), a number or a date compared with text or the other way round,
// gps with something other than true or false, or the parentheses and
// OR of other query languages, which this syntax does not have.
func checkFilter(src string, q query.Query) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrBadFilter, src, fmt.Sprintf(format, args...))
	}
	var check func(q query.Query) error
	check = func(q query.Query) error {
		var field, value, use string // use: "text", "number", "date", "number or text"
		switch v := q.(type) {
		case *query.BooleanQuery:
			for _, c := range []query.Query{v.Must, v.Should, v.MustNot} {
				if c != nil {
					if err := check(c); err != nil {
						return err
					}
				}
			}
			return nil
		case *query.ConjunctionQuery:
			for _, c := range v.Conjuncts {
				if err := check(c); err != nil {
					return err
				}
			}
			return nil
		case *query.DisjunctionQuery:
			// field:1000 parses as (match "1000" or the range [1000, 1000]).
			if len(v.Disjuncts) == 2 {
				m, ok1 := v.Disjuncts[0].(*query.MatchQuery)
				r, ok2 := v.Disjuncts[1].(*query.NumericRangeQuery)
				if ok1 && ok2 && m.FieldVal == r.FieldVal {
					field, value, use = m.FieldVal, m.Match, "number or text"
					break
				}
			}
			for _, c := range v.Disjuncts {
				if err := check(c); err != nil {
					return err
				}
			}
			return nil
		case *query.MatchAllQuery, *query.MatchNoneQuery:
			return nil
		case *query.MatchQuery:
			field, value, use = v.FieldVal, v.Match, "text"
		case *query.MatchPhraseQuery:
			field, value, use = v.FieldVal, v.MatchPhrase, "text"
		case *query.TermQuery:
			field, value, use = v.FieldVal, v.Term, "text"
		case *query.PrefixQuery:
			field, value, use = v.FieldVal, v.Prefix, "text"
		case *query.WildcardQuery:
			field, value, use = v.FieldVal, v.Wildcard, "text"
		case *query.RegexpQuery:
			field, value, use = v.FieldVal, v.Regexp, "text"
		case *query.FuzzyQuery:
			field, value, use = v.FieldVal, v.Term, "text"
		case *query.NumericRangeQuery:
			field, use = v.FieldVal, "number"
		case *query.DateRangeQuery:
			field, use = v.FieldVal, "date"
		case *query.DateRangeStringQuery:
			field, use = v.FieldVal, "date"
		default:
			return bad("%T clauses are not supported", q)
		}
		if strings.ContainsAny(field, "()") || field == "" && (value == "OR" || value == "AND" || value == "NOT") ||
			field != "path" && field != "dir" && field != "name" && strings.ContainsAny(value, "()") {
			return bad("parentheses, OR and AND are not part of the filter syntax: every clause must hold, and -field:value excludes (e.g. 'ext:png -name:draft*')")
		}
		if field == "" {
			field = "name" // a term without a field matches the file name
		}
		kind := fieldKind(-1)
		for _, f := range catalogFields {
			if f.name == field {
				kind = f.kind
			}
		}
		switch {
		case kind < 0:
			return bad("unknown field %q; the fields are %s", field, fieldNames())
		case kind == fieldNumber && use != "number" && use != "number or text":
			return bad("%s is a number: %s:1000, %s:>1000, %s:<=2000", field, field, field, field)
		case kind == fieldDate && use != "date":
			return bad(`%s is a date: %s:>"2021-01-01", %s:<"2022-06-30T12:00:00Z"`, field, field, field)
		case kind != fieldNumber && kind != fieldDate && use != "text" && use != "number or text":
			return bad("%s is text, not a %s: %s:VALUE (wildcards allowed: name:IMG_*)", field, use, field)
		case field == "gps" && value != "true" && value != "false":
			return bad("gps is true or false, not %q", value)
		}
		return nil
	}
	return check(q)
}

// wholeValues turns a quoted value on a field indexed as one keyword
// (path, dir, name, ...) into a match of the whole value, as the same
// value unquoted: name:"my photo.jpg" is the file named so. bleve reads a
// quoted value as a phrase, which needs term positions, and the catalog
// keeps positions only for the fields split into words (make, model,
// camera), where a quoted value stays a phrase. Reader.Filter applies it
// to parseFilter's query; ParseFilter leaves the phrases for another back
// end to map as it can.
func wholeValues(q query.Query) query.Query {
	switch v := q.(type) {
	case *query.MatchPhraseQuery:
		field := v.FieldVal
		if field == "" {
			field = "name" // as checkFilter: the default field
		}
		for _, f := range catalogFields {
			if f.name == field && (f.kind == fieldExact || f.kind == fieldLower) {
				m := query.NewMatchQuery(v.MatchPhrase)
				m.SetField(v.FieldVal)
				m.SetBoost(v.Boost())
				m.Analyzer, m.Fuzziness = v.Analyzer, v.Fuzziness
				return m
			}
		}
	case *query.BooleanQuery:
		for _, c := range []*query.Query{&v.Must, &v.Should, &v.MustNot} {
			if *c != nil {
				*c = wholeValues(*c)
			}
		}
	case *query.ConjunctionQuery:
		for i, c := range v.Conjuncts {
			v.Conjuncts[i] = wholeValues(c)
		}
	case *query.DisjunctionQuery:
		for i, c := range v.Disjuncts {
			v.Disjuncts[i] = wholeValues(c)
		}
	}
	return q
}
