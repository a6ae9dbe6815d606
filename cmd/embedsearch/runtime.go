package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/embedsearch/embedsearch/infer"
	"github.com/urfave/cli/v2"
)

func newRuntimeCommand() *cli.Command {
	return &cli.Command{
		Name:  "runtime",
		Usage: "show the onnxruntime library in use, its execution providers and whether CUDA can be used",
		Description: "Finds onnxruntime like every other command: --onnxruntime / " + envRuntimeLib + ", the user cache,\n" +
			"the system library folders (version >= 1.24), else a download pinned by version and SHA-256\n" +
			"(" + envORTBaseURL + " names a mirror; " + envOffline + "=1 forbids it).",
		Flags: append(runtimeFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		),
		Action: func(c *cli.Context) error {
			rt, err := loadRuntime(c.Context, runtimeOptionsFrom(c), c.App.ErrWriter)
			if err != nil {
				return err
			}
			ok, why := cudaState(rt)
			w := c.App.Writer
			if c.Bool("json") {
				return json.NewEncoder(w).Encode(struct {
					Path      string   `json:"path"`
					Version   string   `json:"version"`
					Source    string   `json:"source"`
					Providers []string `json:"providers"`
					CUDA      bool     `json:"cuda"`
					CUDAWhy   string   `json:"cuda_reason"`
				}{rt.Path, rt.Version, rt.Source, rt.Providers(), ok, why})
			}
			yes := "no: "
			if ok {
				yes = "yes: "
			}
			fmt.Fprintf(w, "library:    %s (%s)\n", rt.Path, rt.Source)
			fmt.Fprintf(w, "version:    %s\n", rt.Version)
			fmt.Fprintf(w, "providers:  %s\n", strings.Join(rt.Providers(), ", "))
			fmt.Fprintf(w, "cuda:       %s%s\n", yes, why)
			return nil
		},
	}
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
