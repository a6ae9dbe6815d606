package preprocess

import "image"

// orient applies an EXIF orientation (1..8) the way PIL's
// ImageOps.exif_transpose does; other values leave the image as it is.
func orient(m *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return m
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	src := func(x, y int) (int, int) {
		switch o {
		case 2: // mirror horizontal
			return w - 1 - x, y
		case 3: // rotate 180
			return w - 1 - x, h - 1 - y
		case 4: // mirror vertical
			return x, h - 1 - y
		case 5: // transpose
			return y, x
		case 6: // rotate 90 clockwise
			return y, h - 1 - x
		case 7: // transverse
			return w - 1 - y, h - 1 - x
		default: // 8: rotate 90 counter-clockwise
			return w - 1 - y, x
		}
	}
	for y := 0; y < oh; y++ {
		row := out.Pix[y*out.Stride:]
		for x := 0; x < ow; x++ {
			sx, sy := src(x, y)
			i := sy*m.Stride + 4*sx
			copy(row[4*x:4*x+4], m.Pix[i:i+4])
		}
	}
	return out
}
