package preprocess

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A 12-megapixel HEIC as phones write it: a grid of 512×512 tiles (8×6:
// 4096×3072), made at benchmark time from a real caltech101-neardup photo
// upscaled with sensor-like noise, each tile encoded by heif-enc (x265,
// quality 60: 1.3 MB in all, as a phone's 12-MP HEIC weighs 1.5-3 MB) and
// the grid assembled by testdata/heif/gridmux.go.
var (
	bigHEICOnce sync.Once
	bigHEIC     []byte
	bigHEICErr  error
)

func bigHEICFile(b *testing.B) []byte {
	data := sharedData(b)
	bigHEICOnce.Do(func() {
		for _, tool := range []string{"/usr/bin/convert", "heif-enc"} {
			if _, err := exec.LookPath(tool); err != nil {
				bigHEICErr = fmt.Errorf("%s is needed (Debian: imagemagick, libheif-examples): %v", tool, err)
				return
			}
		}
		dir, err := os.MkdirTemp("", "embedsearch-heic-")
		if err != nil {
			bigHEICErr = err
			return
		}
		defer os.RemoveAll(dir)
		run := func(name string, args ...string) {
			if bigHEICErr != nil {
				return
			}
			if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
				bigHEICErr = fmt.Errorf("%s: %v: %s", name, err, out)
			}
		}
		src := filepath.Join(data, "caltech101-neardup", "dups", "g0000", "original.jpg")
		run("/usr/bin/convert", src, "-resize", "4096x3072^", "-gravity", "center", "-extent", "4096x3072",
			"-attenuate", "0.1", "+noise", "Gaussian", "-crop", "512x512", "+repage", filepath.Join(dir, "t%02d.png"))
		args := []string{"run", filepath.Join("testdata", "heif", "gridmux.go"), "-rows", "6", "-cols", "8", "-o", filepath.Join(dir, "big.heic")}
		for i := range 48 {
			t := filepath.Join(dir, fmt.Sprintf("t%02d", i))
			run("heif-enc", "-q", "60", "-o", t+".heic", t+".png")
			args = append(args, t+".heic")
		}
		run("go", args...)
		if bigHEICErr == nil {
			bigHEIC, bigHEICErr = os.ReadFile(filepath.Join(dir, "big.heic"))
		}
	})
	if bigHEICErr != nil {
		b.Skip(bigHEICErr)
	}
	return bigHEIC
}

// BenchmarkHEIC12MP: decode + 224-px preprocessing (shortest side, centre
// crop) of a 12-MP grid HEIC, in CPU time per image, against ImageMagick
// doing the same through the same libheif in the same run (its start-up,
// a 1-pixel image, subtracted).
//
//	go test -run '^$' -bench HEIC12MP -benchtime 10x ./infer/preprocess/
func BenchmarkHEIC12MP(b *testing.B) {
	if _, err := HEIFDecoder(); err != nil {
		b.Skip(err)
	}
	data := bigHEICFile(b)
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, p.TensorLen())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if _, err := p.Bytes(data, dst); err != nil {
			b.Fatal(err)
		}
	}
	cpu := (cpuTime() - cpu0) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(float64(cpu.Milliseconds()), "cpu-ms/img")

	// The peer: ImageMagick's convert, whose HEIC coder is libheif.
	dir := b.TempDir()
	heic := filepath.Join(dir, "big.heic")
	os.WriteFile(heic, data, 0o644)
	childCPU := func(args ...string) time.Duration {
		cmd := exec.Command("/usr/bin/convert", args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Skipf("peer: %v: %s", err, out)
		}
		u := cmd.ProcessState
		return u.UserTime() + u.SystemTime()
	}
	const peerRuns = 3
	var peer, startup time.Duration
	for range peerRuns {
		peer += childCPU(heic, "-resize", "224x224^", "-gravity", "center", "-extent", "224x224", "rgb:"+filepath.Join(dir, "out.rgb"))
		startup += childCPU("-size", "1x1", "xc:gray", "-resize", "224x224^", "rgb:"+filepath.Join(dir, "out.rgb"))
	}
	peerCPU := (peer - startup) / peerRuns
	b.ReportMetric(float64(peerCPU.Milliseconds()), "peer-cpu-ms/img")
	b.ReportMetric(float64(cpu)/float64(peerCPU), "ratio")
}
