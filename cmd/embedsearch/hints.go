package main

import (
	"errors"

	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/internal/download"
	"github.com/embedsearch/embedsearch/models"
)

// hint is what to do about err, keyed on the libraries' sentinel errors:
// the libraries say what happened, only the CLI knows its flags and
// variables. "" when there is nothing to add.
func hint(err error) string {
	switch {
	case errors.Is(err, download.ErrUnreachable) && errors.Is(err, infer.ErrDownload):
		return "; check the network or point " + envORTBaseURL + " at a mirror"
	case errors.Is(err, download.ErrUnreachable) && errors.Is(err, models.ErrDownload):
		return "; check the network, point " + models.EnvBaseURL + " at a mirror, or pass --model DIR with the files"
	}
	return ""
}
