package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/infer/preprocess"
)

func newRuntimeCommand() *cli.Command {
	return &cli.Command{
		Name:  "runtime",
		Usage: "show the onnxruntime library in use, its execution providers, whether CUDA can be used, and the JPEG and HEIC/AVIF decoders",
		Description: "Finds onnxruntime like every other command: --onnxruntime / " + envRuntimeLib + ", the user cache,\n" +
			"the system library folders (version >= 1.24), else a download pinned by version and SHA-256\n" +
			"(" + envORTBaseURL + " names a mirror; " + envOffline + "=1 forbids it).\n" +
			"JPEGs are decoded by libjpeg-turbo (libturbojpeg.so.0, loaded at run time) when it is installed,\n" +
			"else by Go's image/jpeg; " + preprocess.LibJPEGEnv + " names another libturbojpeg file, or \"off\".",
		Flags: append(runtimeFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		),
		Action: func(c *cli.Context) error {
			rt, err := loadRuntime(c.Context, runtimeOptionsFrom(c), c.App.ErrWriter)
			if err != nil {
				return err
			}
			ok, why := cudaState(rt)
			jpeg := preprocess.JPEGDecoder()
			heif, heifErr := preprocess.HEIFDecoder()
			heifWhy := ""
			if heifErr != nil {
				heifWhy = withHint(heifErr)
			}
			w := c.App.Writer
			if c.Bool("json") {
				return json.NewEncoder(w).Encode(struct {
					Path      string   `json:"path"`
					Version   string   `json:"version"`
					Source    string   `json:"source"`
					Providers []string `json:"providers"`
					CUDA      bool     `json:"cuda"`
					CUDAWhy   string   `json:"cuda_reason"`
					JPEG      string   `json:"jpeg_decoder"`
					JPEGWhy   string   `json:"jpeg_reason,omitempty"`
					HEIF      string   `json:"heif_decoder"`
					HEIFWhy   string   `json:"heif_reason,omitempty"`
				}{rt.Path, rt.Version, rt.Source, rt.Providers(), ok, why, jpegName(jpeg), jpeg.Why, heif, heifWhy})
			}
			yes := "no: "
			if ok {
				yes = "yes: "
			}
			fmt.Fprintf(w, "library:    %s (%s)\n", rt.Path, rt.Source)
			fmt.Fprintf(w, "version:    %s\n", rt.Version)
			fmt.Fprintf(w, "providers:  %s\n", strings.Join(rt.Providers(), ", "))
			fmt.Fprintf(w, "cuda:       %s%s\n", yes, why)
			if heifErr != nil {
				heif = "none: " + heifWhy
			}
			fmt.Fprintf(w, "jpeg:       %s\n", jpeg)
			fmt.Fprintf(w, "heic/avif:  %s\n", heif)
			return nil
		},
	}
}

// jpegName is the JPEG decoder in a word for --json: "libjpeg-turbo PATH"
// or "image/jpeg".
func jpegName(d preprocess.JPEGDecoderInfo) string {
	if d.Library {
		return "libjpeg-turbo " + d.Path
	}
	return "image/jpeg"
}

// cudaState is whether CUDA can be used and, in words, how many GPUs it
// has or why it cannot be used (with what to do about it).
func cudaState(rt *infer.Runtime) (ok bool, why string) {
	n, err := rt.CUDA()
	if err != nil {
		return false, withHint(err)
	}
	return true, fmt.Sprintf("%d CUDA device(s)", n)
}
