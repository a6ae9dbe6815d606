package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const tinyModel = "../../testdata/models/tiny"

// embedCLI runs the app in-process with stdin, as main does, and returns the
// exit code, stdout and stderr.
func embedCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := newApp(&out, &errb)
	app.Reader = strings.NewReader(stdin)
	ctx := context.Background()
	err := app.RunContext(ctx, intersperse(app, append([]string{"embedsearch"}, args...)))
	return report(&errb, err, ctx.Err() != nil), out.String(), errb.String()
}

// imageDir writes n distinct PNGs (some in a sub-folder, one with a
// non-image extension, one hidden) plus a text file, and returns the dir
// and the image paths in the order a sorted walk must give.
func imageDir(t *testing.T, n int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	var paths []string
	for i := 0; i < n; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 40+i, 30))
		for y := 0; y < 30; y++ {
			for x := 0; x < 40+i; x++ {
				img.Set(x, y, color.RGBA{uint8(x * 6 * (i + 1)), uint8(y * 8), uint8(i * 40), 255})
			}
		}
		name := fmt.Sprintf("img%d.png", i)
		switch i {
		case 1:
			name = filepath.Join("sub", "b.png")
		case 2:
			name = "picture.dat" // an image without an image extension: taken only when named (walks go by name, as index's)
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
		paths = append(paths, filepath.Join(dir, name))
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden.png"), []byte("skipped"), 0o644)
	// WalkDir order: lexical within each folder.
	sorted := []string{}
	for _, name := range []string{"img0.png", "img3.png", "img4.png", "img5.png", "sub/b.png"} {
		p := filepath.Join(dir, name)
		for _, q := range paths {
			if q == p {
				sorted = append(sorted, p)
			}
		}
	}
	return dir, sorted
}

type jsonlRecord struct {
	Path   string    `json:"path"`
	Vector []float32 `json:"vector"`
}

func parseJSONL(t *testing.T, s string) []jsonlRecord {
	t.Helper()
	var recs []jsonlRecord
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		var r jsonlRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestEmbedDirJSONL(t *testing.T) {
	dir, want := imageDir(t, 6)
	code, out, errs := embedCLI(t, "", "embed", dir, "--model", tinyModel)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	recs := parseJSONL(t, out)
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d (%v)", len(recs), len(want), want)
	}
	// An image named explicitly is tried whatever its name.
	named := filepath.Join(dir, "picture.dat")
	if code, out, errs := embedCLI(t, "", "embed", named, "--model", tinyModel); code != exitOK || len(parseJSONL(t, out)) != 1 {
		t.Errorf("embed %s: exit %d, %q %q", named, code, out, errs)
	}
	for i, r := range recs {
		if r.Path != want[i] {
			t.Errorf("record %d is %s, want %s", i, r.Path, want[i])
		}
		if len(r.Vector) != 16 || math.Abs(norm(r.Vector)-1) > 1e-5 {
			t.Errorf("%s: %d values, norm %v", r.Path, len(r.Vector), norm(r.Vector))
		}
	}
	// The same files named one by one, and via stdin, give the same lines.
	args := append([]string{"embed", "--model", tinyModel, "--batch", "2"}, want...)
	if code, out2, _ := embedCLI(t, "", args...); code != 0 || out2 != out {
		t.Errorf("files as arguments (batch 2): exit %d, output differs: %v", code, out2 != out)
	}
	stdin := strings.Join(want, "\n") + "\n"
	if code, out3, _ := embedCLI(t, stdin, "embed", "--model", tinyModel, "-"); code != 0 || out3 != out {
		t.Errorf("paths on stdin: exit %d, output differs: %v", code, out3 != out)
	}
	stdin0 := strings.Join(want, "\x00")
	if code, out4, _ := embedCLI(t, stdin0, "embed", "-0", "--model", tinyModel, "-"); code != 0 || out4 != out {
		t.Errorf("NUL-separated stdin: exit %d, output differs: %v", code, out4 != out)
	}
}

func TestEmbedFormatsAgree(t *testing.T) {
	dir, want := imageDir(t, 4)
	_, out, _ := embedCLI(t, "", "embed", "--model", tinyModel, dir)
	recs := parseJSONL(t, out)

	code, csvOut, errs := embedCLI(t, "", "embed", "--model", tinyModel, "--format", "csv", dir)
	if code != 0 {
		t.Fatalf("csv: exit %d %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(recs)+1 || rows[0][0] != "path" || rows[0][1] != "v0" || len(rows[0]) != 17 {
		t.Fatalf("csv: %d rows, header %v", len(rows), rows[0])
	}
	for i, r := range recs {
		if rows[i+1][0] != r.Path {
			t.Errorf("csv row %d path %s, want %s", i, rows[i+1][0], r.Path)
		}
		for j, x := range r.Vector {
			v, _ := strconv.ParseFloat(rows[i+1][j+1], 32)
			if float32(v) != x {
				t.Errorf("csv row %d col %d: %v, jsonl %v", i, j, v, x)
			}
		}
	}

	pathsFile := filepath.Join(t.TempDir(), "paths.txt")
	code, npy, errs := embedCLI(t, "", "embed", "--model", tinyModel, "--format", "npy", "--paths-out", pathsFile, dir)
	if code != 0 {
		t.Fatalf("npy: exit %d %s", code, errs)
	}
	rowsN, dim, data := parseNPY(t, []byte(npy))
	if rowsN != len(recs) || dim != 16 {
		t.Fatalf("npy shape (%d, %d), want (%d, 16)", rowsN, dim, len(recs))
	}
	for i, r := range recs {
		for j, x := range r.Vector {
			if data[i*dim+j] != x {
				t.Fatalf("npy [%d,%d] = %v, jsonl %v", i, j, data[i*dim+j], x)
			}
		}
	}
	names, _ := os.ReadFile(pathsFile)
	if string(names) != strings.Join(want, "\n")+"\n" {
		t.Errorf("--paths-out wrote %q", names)
	}
}

// parseNPY reads a version 1.0 .npy holding a little-endian float32 2-D array.
func parseNPY(t *testing.T, b []byte) (rows, cols int, data []float32) {
	t.Helper()
	if len(b) < 10 || string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("not a .npy v1.0: % x", b[:min(len(b), 10)])
	}
	hlen := int(binary.LittleEndian.Uint16(b[8:10]))
	if (10+hlen)%64 != 0 {
		t.Errorf("header length %d: data does not start on a 64-byte boundary", hlen)
	}
	header := string(b[10 : 10+hlen])
	m := regexp.MustCompile(`^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n$`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("header %q", header)
	}
	rows, _ = strconv.Atoi(m[1])
	cols, _ = strconv.Atoi(m[2])
	body := b[10+hlen:]
	if len(body) != rows*cols*4 {
		t.Fatalf("%d data bytes for shape (%d, %d)", len(body), rows, cols)
	}
	data = make([]float32, rows*cols)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return rows, cols, data
}

func TestEmbedPartialFailure(t *testing.T) {
	dir, want := imageDir(t, 3)
	corrupt := filepath.Join(dir, "broken.png")
	good, _ := os.ReadFile(want[0])
	os.WriteFile(corrupt, good[:40], 0o644)
	missing := filepath.Join(dir, "gone.jpg")

	code, out, errs := embedCLI(t, "", "embed", "--model", tinyModel, want[0], corrupt, missing, want[1])
	if code != exitPartial {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitPartial, errs)
	}
	recs := parseJSONL(t, out)
	if len(recs) != 2 || recs[0].Path != want[0] || recs[1].Path != want[1] {
		t.Fatalf("records %v", recs)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], corrupt) || !strings.Contains(lines[1], missing) ||
		!strings.Contains(lines[1], "no such file") || !strings.Contains(lines[2], "2 file(s) failed") {
		t.Errorf("stderr %q: want one line per failed file and a summary", errs)
	}
}

func TestEmbedUsageAndModelErrors(t *testing.T) {
	dir, _ := imageDir(t, 1)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no input", []string{"embed", "--model", tinyModel}, exitUsage, "IMAGE, DIR or -"},
		{"bad format", []string{"embed", "--model", tinyModel, "--format", "xml", dir}, exitUsage, "jsonl, csv or npy"},
		{"bad device", []string{"embed", "--model", tinyModel, "--device", "tpu", dir}, exitUsage, "cpu, cuda or auto"},
		{"bad batch", []string{"embed", "--model", tinyModel, "--batch", "0", dir}, exitUsage, "--batch"},
		{"two stdins", []string{"embed", "--model", tinyModel, "-", "-"}, exitUsage, "once"},
		{"mismatched model", []string{"embed", "--model", "../../testdata/models/mismatch", dir}, exitError, "does not match the ONNX graph"},
		{"unknown model", []string{"embed", "--model", "no-such-model", dir}, exitError, "no-such-model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := embedCLI(t, "", c.args...)
			if code != c.code || !strings.Contains(errs, c.want) || out != "" {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want it to mention %q)", code, c.code, out, errs, c.want)
			}
		})
	}
}

func TestEmbedDevices(t *testing.T) {
	dir, _ := imageDir(t, 2)
	code, out, errs := embedCLI(t, "", "runtime", "--json")
	var info struct {
		CUDA   bool   `json:"cuda"`
		Reason string `json:"cuda_reason"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || code != 0 {
		t.Fatalf("runtime --json: %v %q %q", err, out, errs)
	}
	if info.CUDA {
		t.Skip("CUDA is usable here; the fallback paths are not reachable")
	}
	code, out, errs = embedCLI(t, "", "embed", "--model", tinyModel, "--device", "cuda", dir)
	if code != exitError || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, info.Reason) {
		t.Errorf("--device cuda without CUDA: exit %d, stderr %q; want one line with the reason", code, errs)
	}
	code, out, errs = embedCLI(t, "", "embed", "--model", tinyModel, "--device", "auto", dir)
	if code != 0 || len(parseJSONL(t, out)) != 2 || !strings.Contains(errs, "using the CPU") {
		t.Errorf("--device auto without CUDA: exit %d, stderr %q", code, errs)
	}
}

func TestRuntimeCommand(t *testing.T) {
	code, out, errs := embedCLI(t, "", "runtime")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"library:", "version:    1.", "CPUExecutionProvider", "cuda:"} {
		if !strings.Contains(out, want) {
			t.Errorf("runtime output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = embedCLI(t, "", "runtime", "--json")
	var info struct {
		Path, Version, Source string
		Providers             []string
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || code != 0 || info.Path == "" || len(info.Providers) == 0 {
		t.Errorf("runtime --json: exit %d, %v, %+v", code, err, info)
	}
}
