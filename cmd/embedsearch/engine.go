package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/models"
)

// Environment variables read by the engine flags (README lists them).
const (
	envRuntimeLib = "ONNXRUNTIME_LIB"         // same as --onnxruntime
	envORTBaseURL = "EMBEDSEARCH_ORT_BASEURL" // mirror for the pinned onnxruntime download
	envOffline    = "EMBEDSEARCH_OFFLINE"     // "1": never download onnxruntime
)

// runtimeFlags select the onnxruntime library; every command that runs a
// model has them.
func runtimeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "onnxruntime", EnvVars: []string{envRuntimeLib},
			Usage: "onnxruntime shared library `PATH` (default: cache, system, else a verified download)"},
	}
}

// engineFlags are the flags of every command that embeds images.
func engineFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Value: models.BuiltinName,
			DefaultText: "the store's own model; built-in for a new store and for embed",
			Usage:       "model `NAME`, directory or .onnx file with its manifest.json"},
		&cli.StringFlag{Name: "device", Value: infer.DeviceCPU, Usage: "`DEVICE`: cpu, cuda or auto (cuda when usable, else cpu)"},
		&cli.IntFlag{Name: "threads", Usage: "onnxruntime threads `N` (0: one per core)"},
		&cli.IntFlag{Name: "batch", Value: infer.DefaultBatch, Usage: "images per inference call `N`"},
		&cli.Float64Flag{Name: "max-megapixels", Value: preprocess.DefaultMaxPixels / 1e6,
			Usage: "refuse images larger than `MP` megapixels before decoding them"},
		&cli.StringFlag{Name: "max-file-size", Value: "1GiB",
			Usage: "refuse files larger than `SIZE` (e.g. 500MB, 2GiB) before reading them"},
		&cli.BoolFlag{Name: "fast-decode",
			Usage: "decode large JPEGs at 1/2, 1/4 or 1/8 scale (PIL's draft(), keeping 4x the model's input): several times faster, not a full decode's pixels (the built-in model always does)"},
	}, runtimeFlags()...)
}

// engineOptions are the parsed engine flags.
type engineOptions struct {
	Model         string
	Device        string
	Threads       int
	Batch         int
	MaxMegapixels float64
	MaxFileSize   int64
	FastDecode    bool
	Runtime       infer.RuntimeOptions
}

func engineOptionsFrom(c *cli.Context) (engineOptions, error) {
	o := engineOptions{
		Model:         c.String("model"),
		Device:        c.String("device"),
		Threads:       c.Int("threads"),
		Batch:         c.Int("batch"),
		MaxMegapixels: c.Float64("max-megapixels"),
		FastDecode:    c.Bool("fast-decode"),
		Runtime:       runtimeOptionsFrom(c),
	}
	switch o.Device {
	case infer.DeviceCPU, infer.DeviceCUDA, infer.DeviceAuto:
	default:
		return o, usagef("--device %q: want cpu, cuda or auto", o.Device)
	}
	if o.Threads < 0 {
		return o, usagef("--threads %d: must be 0 (one per core) or more", o.Threads)
	}
	if o.Batch < 1 {
		return o, usagef("--batch %d: must be at least 1", o.Batch)
	}
	if o.MaxMegapixels <= 0 {
		return o, usagef("--max-megapixels %g: must be positive", o.MaxMegapixels)
	}
	var err error
	if o.MaxFileSize, err = parseSize(c.String("max-file-size")); err != nil || o.MaxFileSize <= 0 {
		return o, usagef("--max-file-size %q: want a positive size such as 500MB or 2GiB", c.String("max-file-size"))
	}
	return o, nil
}

func runtimeOptionsFrom(c *cli.Context) infer.RuntimeOptions {
	offline, _ := strconv.ParseBool(os.Getenv(envOffline))
	return infer.RuntimeOptions{
		Library: c.String("onnxruntime"),
		BaseURL: os.Getenv(envORTBaseURL),
		Offline: offline,
	}
}

// engine is what a command needs to embed images: the runtime, the model
// and an encoder on the chosen device.
type engine struct {
	Runtime *infer.Runtime
	Model   *models.Model
	Encoder *infer.Encoder
}

// openEngine loads onnxruntime (downloading it if needed, with progress on
// stderr), opens the model and creates the encoder. With --device auto and
// no usable CUDA it says so in one line on stderr and uses the CPU.
func openEngine(ctx context.Context, o engineOptions, stderr io.Writer) (*engine, error) {
	m, err := models.Open(o.Model)
	if err != nil {
		return nil, err
	}
	return openEngineFor(ctx, m, o, stderr)
}

// openEngineFor is openEngine for a model already opened (e.g. the one a
// store is bound to); o.Model is ignored.
func openEngineFor(ctx context.Context, m *models.Model, o engineOptions, stderr io.Writer) (*engine, error) {
	rt, err := loadRuntime(ctx, o.Runtime, stderr)
	if err != nil {
		return nil, err
	}
	enc, err := infer.NewEncoder(rt, m, infer.EncoderOptions{
		Device:      o.Device,
		Threads:     o.Threads,
		Batch:       o.Batch,
		Limits:      preprocess.Limits{MaxPixels: int64(o.MaxMegapixels * 1e6)},
		MaxFileSize: o.MaxFileSize,
		FastDecode:  o.FastDecode,
	})
	if err != nil {
		return nil, err
	}
	if o.Device == infer.DeviceAuto && enc.Device() != infer.DeviceCUDA {
		_, why := cudaState(rt)
		fmt.Fprintf(stderr, "embedsearch: using the CPU: %s\n", why)
	}
	return &engine{Runtime: rt, Model: m, Encoder: enc}, nil
}

func (e *engine) Close() error { return e.Encoder.Close() }

// openCollectionEngine is openEngineFor the model of a collection.
func openCollectionEngine(ctx context.Context, col *collection.Collection, o engineOptions, stderr io.Writer) (*engine, error) {
	m, err := col.Model()
	if err != nil {
		return nil, err
	}
	return openEngineFor(ctx, m, o, stderr)
}

// noteTo prints a collection's notes on stderr: all of them, or with
// quiet only those that say something was wrong (a stale lock, a repair,
// an unreadable graph), which every command reports alike.
func noteTo(stderr io.Writer, quiet bool) func(collection.Note) {
	return func(n collection.Note) {
		if quiet && n.Kind == collection.NoteANN {
			return
		}
		if n.Kind == collection.NoteRepair {
			fmt.Fprintf(stderr, "embedsearch: repair: %s\n", n.Text)
			return
		}
		fmt.Fprintf(stderr, "embedsearch: %s\n", n.Text)
	}
}

// loadRuntime loads onnxruntime; a download says so in a line on stderr
// and shows its progress on a terminal.
func loadRuntime(ctx context.Context, o infer.RuntimeOptions, stderr io.Writer) (*infer.Runtime, error) {
	bar := newProgress(stderr, false)
	started := false
	o.Progress = func(done, total int64) {
		if !started {
			started = true
			fmt.Fprintf(stderr, "embedsearch: downloading onnxruntime %s (%.1f MB, checked against its pinned SHA-256)\n",
				infer.DefaultPin.Version, float64(total)/1e6)
		}
		bar.show("onnxruntime", unitBytes, done, total)
	}
	rt, err := infer.LoadRuntime(ctx, o)
	bar.done()
	if started && err == nil {
		fmt.Fprintln(stderr, "embedsearch: onnxruntime verified and cached")
	}
	return rt, err
}

// parseSize reads a byte count: a number with an optional unit, B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024); a space
// between is allowed and case is ignored.
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (B, KB, MB, GB, KiB, MiB, GiB)", s)
	}
	return int64(v * mult), nil
}
