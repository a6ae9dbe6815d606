package preprocess

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestConcurrentUse runs one Preparer from several goroutines (run under
// -race): every goroutine must get the tensor a lone call gets.
func TestConcurrentUse(t *testing.T) {
	dir := filepath.Join(sharedData(t), "caltech101-neardup", "dups", "g0001")
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var files [][]byte
	var want [][]float32
	for _, name := range []string{"original.jpg", "png.png", "webp.webp", "exif8.jpg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float32, p.TensorLen())
		if _, err := p.Bytes(b, v); err != nil {
			t.Fatal(err)
		}
		files, want = append(files, b), append(want, v)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			v := make([]float32, p.TensorLen())
			for i := range files {
				j := (i + g) % len(files)
				if _, err := p.Bytes(files[j], v); err != nil {
					errs <- err.Error()
					return
				}
				if !slices.Equal(v, want[j]) {
					errs <- "tensor differs from the lone call"
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
