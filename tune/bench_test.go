package tune

import (
	"context"
	"math/rand/v2"
	"testing"
)

// clustered makes n unit vectors of dim values in classes clusters
// (a centre plus noise of the same size), labelled by cluster.
func clustered(n, dim, classes int, seed uint64) *Data {
	r := rand.New(rand.NewPCG(seed, 5))
	centres := randomUnit(r, classes, dim)
	noise := randomUnit(r, n, dim)
	d := &Data{Dim: dim, Classes: true, X: make([]float32, n*dim)}
	for c := range classes {
		d.Names = append(d.Names, string(rune('a'+c%26))+string(rune('0'+c/26)))
	}
	for i := range n {
		c := i % classes
		x := make([]float64, dim)
		for j := range x {
			x[j] = float64(centres[c*dim+j]) + 1.2*float64(noise[i*dim+j])
		}
		unit(x)
		for j, v := range x {
			d.X[i*dim+j] = float32(v)
		}
		d.Paths = append(d.Paths, "")
		d.Label = append(d.Label, c)
		d.Group = append(d.Group, -1)
	}
	return d
}

// BenchmarkTuneLinear25k: the whole of Tune (split, 30 epochs with no
// early stop, mining each epoch, scoring) for a linear head on 25,000
// vectors of 128 values, 100 labels. The target is under a minute on 2
// cores (-cpu 2).
func BenchmarkTuneLinear25k(b *testing.B) {
	d := clustered(25_000, 128, 100, 1)
	b.ReportAllocs()
	for b.Loop() {
		res, err := Tune(context.Background(), d, Options{Seed: 1, Epochs: benchEpochs, Patience: benchEpochs})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Epochs)), "epochs")
		b.ReportMetric(res.After.Precision10-res.Before.Precision10, "p10-gain")
	}
}

// benchEpochs is the number of epochs BenchmarkTuneLinear25k runs: the
// default maximum, none stopped early.
const benchEpochs = 30
