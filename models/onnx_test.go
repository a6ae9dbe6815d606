package models

import (
	"context"
	"errors"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/models/onnxtest"
)

func imageModel(in, out string, inDims, outDims []int64, size int) []byte {
	return onnxtest.Model([]onnxtest.Tensor{{Name: in, Elem: onnxtest.Float, Dims: inDims}},
		[]onnxtest.Tensor{{Name: out, Elem: onnxtest.Float, Dims: outDims}}, size, 1)
}

// TestCheckONNX: the structural check passes the graph a manifest
// describes and refuses what is not it, naming why.
func TestCheckONNX(t *testing.T) {
	man := tinyZooModel(&repoServer{files: map[string][]byte{}}, false)
	good := imageModel("pixel_values", "image_embeds", []int64{-1, 3, 224, 224}, []int64{-1, 8}, 5000)
	if err := checkONNX(man, "vision_model.onnx", good); err != nil {
		t.Fatalf("the described graph: %v", err)
	}
	fixed := imageModel("pixel_values", "image_embeds", []int64{4, 3, 224, 224}, []int64{4, 8}, 5000)
	if err := checkONNX(man, "vision_model.onnx", fixed); err != nil {
		t.Fatalf("a fixed batch axis: %v", err)
	}
	random := make([]byte, 20_000)
	rand.New(rand.NewSource(1)).Read(random)
	// One byte of the initializer's length prefix: its data no longer fits.
	i := strings.Index(string(good), "weights") + len("weights") + 1
	badLen := append([]byte(nil), good...)
	badLen[i+1]--
	for _, tc := range []struct {
		what string
		data []byte
		want string
	}{
		{"random bytes", random, "not an ONNX model"},
		{"empty", nil, "not an ONNX model"},
		{"an HTML page", []byte("<!DOCTYPE html><html><body>rate limited</body></html>"), "not an ONNX model"},
		{"truncated", good[:len(good)-100], "not an ONNX model"},
		{"a shortened initializer", badLen, ""},
		{"another input", imageModel("input", "image_embeds", []int64{-1, 3, 224, 224}, []int64{-1, 8}, 5000), `input "pixel_values": the graph's are input`},
		{"another output", imageModel("pixel_values", "last_hidden_state", []int64{-1, 3, 224, 224}, []int64{-1, 8}, 5000), `output "image_embeds"`},
		{"another size", imageModel("pixel_values", "image_embeds", []int64{-1, 3, 256, 256}, []int64{-1, 8}, 5000), `input "pixel_values": the manifest says`},
		{"another dim", imageModel("pixel_values", "image_embeds", []int64{-1, 3, 224, 224}, []int64{-1, 384}, 5000), `output "image_embeds": the manifest says`},
		{"token ids", onnxtest.Model([]onnxtest.Tensor{{Name: "pixel_values", Elem: onnxtest.Int64, Dims: []int64{-1, 3, 224, 224}}},
			[]onnxtest.Tensor{{Name: "image_embeds", Elem: onnxtest.Float, Dims: []int64{-1, 8}}}, 5000, 1), "type"},
	} {
		err := checkONNX(man, "vision_model.onnx", tc.data)
		if !errors.Is(err, ErrBadGraph) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBadGraph with %q", tc.what, err, tc.want)
		}
	}
	txt := onnxtest.Model([]onnxtest.Tensor{{Name: "input_ids", Elem: onnxtest.Int64, Dims: []int64{-1, 77}}},
		[]onnxtest.Tensor{{Name: "text_embeds", Elem: onnxtest.Float, Dims: []int64{-1, 8}}}, 3000, 2)
	if err := checkONNX(man, "text_model.onnx", txt); err != nil {
		t.Errorf("the text tower: %v", err)
	}
	if err := checkONNX(man, "text_model.onnx", good); !errors.Is(err, ErrBadGraph) {
		t.Errorf("the image graph as the text tower: %v", err)
	}
	if err := checkONNX(man, "vocab.txt", random); err != nil {
		t.Errorf("a file that is no tower: %v", err)
	}
}

// TestPullRefusesWhatIsNotTheGraph: a file without a published digest
// that is not the described graph (a 20 MB file of random bytes) is
// refused on its first download; nothing is cached or recorded.
func TestPullRefusesWhatIsNotTheGraph(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, false)
	random := make([]byte, 20<<20)
	rand.New(rand.NewSource(2)).Read(random)
	rs.files["/"+man.Files[0].URL] = random
	c := &Cache{Root: t.TempDir()}
	_, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL))
	if !errors.Is(err, ErrBadGraph) {
		t.Fatalf("random bytes: %v, want ErrBadGraph", err)
	}
	if c.Cached("tiny") {
		t.Fatal("cached")
	}
	if _, err := os.Stat(c.blobPath(sha(random))); err == nil {
		t.Fatal("the refused bytes are still in the cache")
	}
	if _, ok := c.Pinned(man.Files[0]); ok {
		t.Fatal("the refused bytes' digest was recorded")
	}
}

// TestPinsOutliveRemove: the digest recorded at the first download holds
// after the model is removed: a mirror serving one changed byte is
// refused (structurally, the file is still a fine graph); Forget lets the
// next pull record the new bytes.
func TestPinsOutliveRemove(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, false)
	c := &Cache{Root: t.TempDir()}
	ctx := context.Background()
	if _, err := c.PullManifest(ctx, "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatal(err)
	}
	path := "/" + man.Files[0].URL
	orig := rs.files[path]
	if pin, ok := c.Pinned(man.Files[0]); !ok || pin.SHA256 != sha(orig) || pin.Size != int64(len(orig)) || pin.Model != "tiny" {
		t.Fatalf("pin %+v %v", pin, ok)
	}
	if _, err := c.Remove("tiny"); err != nil {
		t.Fatal(err)
	}
	changed := append([]byte(nil), orig...)
	changed[len(changed)/2] ^= 0x40 // inside the initializer's data
	if err := checkONNX(man, man.Image.File, changed); err != nil {
		t.Fatalf("the changed file should still look fine: %v", err)
	}
	rs.files[path] = changed
	_, err := c.PullManifest(ctx, "tiny", man, testOptions(srv.URL))
	if !errors.Is(err, ErrChecksum) || !errors.Is(err, ErrRecordedDigest) || !strings.Contains(err.Error(), "first download on") {
		t.Fatalf("one changed byte after remove: %v", err)
	}
	if c.Cached("tiny") {
		t.Fatal("cached")
	}
	if n, err := c.Forget(ctx, man); n != 2 || err != nil {
		t.Fatalf("Forget: %d %v", n, err)
	}
	if _, err := c.PullManifest(ctx, "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatalf("after Forget: %v", err)
	}
	if pin, _ := c.Pinned(man.Files[0]); pin.SHA256 != sha(changed) {
		t.Fatalf("after Forget, pin %+v", pin)
	}
}

// FuzzCheckONNX: the structural check never panics or hangs, whatever the
// bytes (it reads files from the network).
func FuzzCheckONNX(f *testing.F) {
	man := tinyZooModel(&repoServer{files: map[string][]byte{}}, false)
	f.Add(imageModel("pixel_values", "image_embeds", []int64{-1, 3, 224, 224}, []int64{-1, 8}, 600))
	f.Add([]byte("<html>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkONNX(man, "vision_model.onnx", data)
		checkONNX(man, "text_model.onnx", data)
	})
}
