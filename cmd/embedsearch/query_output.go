package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// queryResult is one ranked neighbour; the JSON names are part of the
// interface. The *Bytes fields are set only for JSON (see nameBytes).
type queryResult struct {
	Rank      int     `json:"rank"`
	Path      string  `json:"path"`
	PathBytes string  `json:"path_bytes,omitempty"`
	Distance  float32 `json:"distance"`
}

type queryAnswer struct {
	Query      string        `json:"query"`
	QueryBytes string        `json:"query_bytes,omitempty"`
	Results    []queryResult `json:"results"`
}

// queryReport is query --json: one object whatever the number of queries.
type queryReport struct {
	Version int           `json:"version"` // jsonSchema
	Model   string        `json:"model"`
	Queries []queryAnswer `json:"queries"`
}

// queryLine is one line of query --jsonl: a result with its query.
type queryLine struct {
	Version    int    `json:"version"` // jsonSchema
	Query      string `json:"query"`
	QueryBytes string `json:"query_bytes,omitempty"`
	queryResult
}

// writeAnswers prints the answers (of the store's model) in the format o
// asks for.
func writeAnswers(w io.Writer, o queryOptions, model string, answers []queryAnswer) error {
	if o.Format == "json" || o.Format == "jsonl" {
		for i := range answers {
			a := &answers[i]
			a.QueryBytes = nameBytes(a.Query)
			for j := range a.Results {
				a.Results[j].PathBytes = nameBytes(a.Results[j].Path)
			}
		}
	}
	switch o.Format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(queryReport{Version: jsonSchema, Model: model, Queries: answers})
	case "jsonl":
		enc := json.NewEncoder(w)
		for _, a := range answers {
			for _, res := range a.Results {
				if err := enc.Encode(queryLine{jsonSchema, a.Query, a.QueryBytes, res}); err != nil {
					return err
				}
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"query", "rank", "distance", "path"})
		for _, a := range answers {
			for _, res := range a.Results {
				cw.Write([]string{a.Query, strconv.Itoa(res.Rank), formatDist(res.Distance), res.Path})
			}
		}
		cw.Flush()
		return cw.Error()
	case "paths":
		end := "\n"
		if o.Null {
			end = "\x00"
		}
		for _, a := range answers {
			for _, res := range a.Results {
				if _, err := io.WriteString(w, res.Path+end); err != nil {
					return err
				}
			}
		}
		return nil
	}
	tw := newTable(w)
	for i, a := range answers {
		if len(answers) > 1 {
			if i > 0 {
				fmt.Fprintln(tw)
			}
			fmt.Fprintf(tw, "# %s\n", a.Query)
		}
		if len(a.Results) == 0 {
			fmt.Fprintln(tw, "(no results)")
		}
		for _, res := range a.Results {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", res.Rank, formatDist(res.Distance), res.Path)
		}
	}
	return tw.Flush()
}

func formatDist(d float32) string { return strconv.FormatFloat(float64(d), 'f', 4, 32) }
