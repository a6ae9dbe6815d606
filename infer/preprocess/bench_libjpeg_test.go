//go:build libjpeg

package preprocess

import (
	"fmt"
	"testing"
)

// BenchmarkLibJPEG12MP: libjpeg(-turbo) decodes of the same 12-MP files at
// full size and with DCT scaling, and the accuracy of each against the
// full-size pipeline (a stand-in for PIL, which decodes at full size).
func BenchmarkLibJPEG12MP(b *testing.B) {
	files := bigJPEGs(b)
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	for _, denom := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("decode-1of%d", denom), func(b *testing.B) {
			b.SetBytes(totalBytes(files) / int64(len(files)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := decodeJPEGLib(files[i%len(files)], denom, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("decode+preprocess-1of%d", denom), func(b *testing.B) {
			b.SetBytes(totalBytes(files) / int64(len(files)))
			b.ReportAllocs()
			var worst diffStats
			worst.within2 = 1
			for i := 0; i < b.N; i++ {
				f := files[i%len(files)]
				img, err := decodeJPEGLib(f, denom, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				got := p.pixels(img, 4000, 3000)
				if i < len(files) {
					b.StopTimer()
					full, err := decodeJPEGLib(f, 1, Limits{})
					if err != nil {
						b.Fatal(err)
					}
					st := compare(got.pix, p.pixels(full, 4000, 3000).pix)
					if st.within2 < worst.within2 {
						worst = st
					}
					b.StartTimer()
				}
			}
			b.ReportMetric(100*worst.within2, "%within2")
			b.ReportMetric(worst.mae, "mae/255")
		})
	}
}
