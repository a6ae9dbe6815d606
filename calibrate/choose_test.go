package calibrate

import (
	"testing"

	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/signature"
)

// TestPickPrefersPurityWithinSlack: a point a little short of the most
// recall but purer wins; one further short does not, however pure.
func TestPickPrefersPurityWithinSlack(t *testing.T) {
	pt := func(grad, purity, recall float64, innocents int) Point {
		return Point{models.Dedup{Grad: grad}, Result{Purity: purity, Recall: recall, Innocents: innocents}}
	}
	cases := []struct {
		name string
		ok   []Point
		want float64 // the Grad of the chosen point
	}{
		{"most recall alone", []Point{pt(0.6, 0.97, 0.80, 9)}, 0.6},
		{"purer within slack", []Point{pt(0.6, 0.971, 0.813, 9), pt(0.7, 0.981, 0.804, 6)}, 0.7},
		{"purer beyond slack", []Point{pt(0.6, 0.971, 0.813, 9), pt(0.8, 0.99, 0.80, 2)}, 0.6},
		{"fewer innocents at equal purity", []Point{pt(0.6, 0.98, 0.81, 9), pt(0.7, 0.98, 0.805, 5)}, 0.7},
		{"more recall at equal purity and innocents", []Point{pt(0.6, 0.98, 0.805, 5), pt(0.7, 0.98, 0.81, 5)}, 0.7},
		{"the first of equals", []Point{pt(0.6, 0.98, 0.81, 5), pt(0.7, 0.98, 0.81, 5)}, 0.6},
	}
	for _, c := range cases {
		if got := pick(c.ok).Dedup.Grad; got != c.want {
			t.Errorf("%s: chose grad %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPixelsAgreeTone: the tone bar applies only where the colour check is
// blind, and 0 checks nothing.
func TestPixelsAgreeTone(t *testing.T) {
	c := models.Dedup{Grad: 0.6, GradCrop: 0.8, Colour: 0.6, Changed: 0.1, ToneChanged: 0.1}
	m := signature.Match{Grad: 0.9, Colour: 1, NoColour: true, ToneChanged: 0.2}
	if PixelsAgree(c, m) {
		t.Error("a painted object under a greyscale copy was accepted")
	}
	m.ToneChanged = 0.05
	if !PixelsAgree(c, m) {
		t.Error("a greyscale copy was refused")
	}
	m.NoColour, m.ToneChanged = false, 0.2 // a hue change moves luma too: the colour check decides
	if !PixelsAgree(c, m) {
		t.Error("a colour pair was refused for its tone")
	}
	c.ToneChanged, m.NoColour = 0, true
	if !PixelsAgree(c, m) {
		t.Error("a bar of 0 refused a pair")
	}
}
