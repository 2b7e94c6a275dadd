package web

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // registers the GIF decoder
	"image/jpeg"
	"image/png"

	_ "golang.org/x/image/webp" // registers the WebP decoder

	"maru/store"
)

// Limits on uploaded pictures. The pixel cap is checked against the header
// before anything is decoded, so a small file claiming a huge image (a
// decompression bomb) is refused without allocating for it.
const (
	maxPictureSide     = 512
	maxSourceSide      = 12_000
	maxSourcePixels    = 25_000_000
	pictureJPEGQuality = 85
)

// decodeBudget is the memory one picture's decoding may take. Two decode
// at once (the server's picture slots), and both together must fit in
// 256 MB, which a Raspberry Pi can spare.
const decodeBudget = 128 << 20

const msgNotAnImage = "Upload a valid image. The file you uploaded was either not an image or a corrupted image."

// processPicture checks that data is a JPEG, PNG, GIF or WebP image by its
// content, scales it to at most maxPictureSide on its long side and encodes
// it anew. Re-encoding drops every metadata block, EXIF and GPS included.
// slots bounds how many decodes run at once (the server's pictureSlots):
// the header checks run first, so a refusal never waits for one.
func processPicture(data []byte, slots chan struct{}) (*store.Picture, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, store.Invalid("profile_picture", msgNotAnImage)
	}
	switch format {
	case "jpeg", "png", "gif", "webp":
	default:
		return nil, store.Invalid("profile_picture", "Unsupported image format: use JPEG, PNG, GIF or WebP.")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxSourceSide || cfg.Height > maxSourceSide ||
		cfg.Width*cfg.Height > maxSourcePixels ||
		int64(cfg.Width)*int64(cfg.Height)*decodeBytesPerPixel(data, format) > decodeBudget {
		return nil, store.Invalid("profile_picture", "Image dimensions are too large.")
	}
	slots <- struct{}{}
	defer func() { <-slots }()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, store.Invalid("profile_picture", msgNotAnImage)
	}
	scaled := scaleDown(img, maxPictureSide)
	if format == "jpeg" {
		scaled = orient(scaled, jpegOrientation(data))
	}

	var buf bytes.Buffer
	pic := &store.Picture{}
	if scaled.Opaque() {
		pic.ContentType = "image/jpeg"
		err = jpeg.Encode(&buf, scaled, &jpeg.Options{Quality: pictureJPEGQuality})
	} else {
		pic.ContentType = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, scaled)
	}
	if err != nil {
		return nil, store.Invalid("profile_picture", msgNotAnImage)
	}
	pic.Data = buf.Bytes()
	return pic, nil
}

// scaleDown returns img fitted within side×side. Each new pixel is the
// average of the part of the picture it covers (an area average, which is
// what a reduction should be: no detail is skipped, so nothing shimmers),
// read one row at a time, so a 25-megapixel photo takes one row of extra
// memory besides the result.
func scaleDown(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= side && sh <= side {
		return toRGBA(img)
	}
	w, h := side, side
	if sw >= sh {
		h = max(1, sh*side/sw)
	} else {
		w = max(1, sw*side/sh)
	}
	// Source column x gives its weight to at most two new columns, as
	// does source row y to two new rows: where a new pixel's edge cuts it.
	cols := spans(sw, w)
	rows := spans(sh, h)
	sum := make([]float32, w*h*4) // weighted sums of premultiplied RGBA
	src := make([]uint8, sw*4)    // one source row
	row := make([]float32, w*4)   // that row reduced to the new width
	for y := range sh {
		readRow(img, b.Min.Y+y, src)
		clear(row)
		for x, sp := range cols {
			for k := range 2 {
				if wt := sp.weight[k]; wt > 0 {
					d, p := row[(sp.first+k)*4:], src[x*4:]
					d[0] += wt * float32(p[0])
					d[1] += wt * float32(p[1])
					d[2] += wt * float32(p[2])
					d[3] += wt * float32(p[3])
				}
			}
		}
		sp := rows[y]
		for k := range 2 {
			if wt := sp.weight[k]; wt > 0 {
				d := sum[(sp.first+k)*w*4:][:w*4]
				for i, v := range row {
					d[i] += wt * v
				}
			}
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	area := float32(sw) / float32(w) * float32(sh) / float32(h)
	for i, v := range sum {
		dst.Pix[i] = uint8(min(255, v/area+0.5))
	}
	return dst
}

// span is how one source column (or row) is shared between the new ones:
// weight[0] of it goes to new column first, weight[1] to first+1.
type span struct {
	first  int
	weight [2]float32
}

// spans shares n source columns out among m ≤ n new ones, each new one
// covering n/m of them.
func spans(n, m int) []span {
	out := make([]span, n)
	scale := float64(m) / float64(n) // new columns per source column
	for x := range out {
		start, end := float64(x)*scale, float64(x+1)*scale
		first := int(start)
		if cut := float64(first + 1); end > cut && first+1 < m {
			out[x] = span{first, [2]float32{float32(cut - start), float32(end - cut)}}
		} else {
			out[x] = span{min(first, m-1), [2]float32{float32(end - start), 0}}
		}
	}
	// The weights are in new-column units; in source units each is 1/scale.
	for x := range out {
		out[x].weight[0] /= float32(scale)
		out[x].weight[1] /= float32(scale)
	}
	return out
}

// readRow reads row y of img into dst as premultiplied 8-bit RGBA, fast
// for what the decoders make and through At for anything else.
func readRow(img image.Image, y int, dst []uint8) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.RGBA:
		copy(dst, m.Pix[m.PixOffset(b.Min.X, y):])
		return
	case *image.YCbCr:
		for x := range b.Dx() {
			yi, ci := m.YOffset(b.Min.X+x, y), m.COffset(b.Min.X+x, y)
			r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			dst[x*4], dst[x*4+1], dst[x*4+2], dst[x*4+3] = r, g, bl, 0xff
		}
		return
	case *image.NRGBA:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range b.Dx() {
			a := uint16(p[x*4+3])
			for c := range 3 {
				dst[x*4+c] = uint8((uint16(p[x*4+c])*a + 127) / 255)
			}
			dst[x*4+3] = uint8(a)
		}
		return
	case *image.Gray:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range b.Dx() {
			dst[x*4], dst[x*4+1], dst[x*4+2], dst[x*4+3] = p[x], p[x], p[x], 0xff
		}
		return
	}
	for x := range b.Dx() {
		r, g, bl, a := img.At(b.Min.X+x, y).RGBA()
		dst[x*4], dst[x*4+1], dst[x*4+2], dst[x*4+3] = uint8(r>>8), uint8(g>>8), uint8(bl>>8), uint8(a>>8)
	}
}

func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// decodeBytesPerPixel is how much memory decoding an image of format takes
// per pixel, at most. A baseline JPEG decodes into one byte per component
// and pixel; a progressive one also keeps every coefficient of the whole
// image as an int32 until its last scan (four more bytes per component);
// a CMYK one (four components) is converted into an image of its own (four
// more). So a 25-megapixel colour photo fits the budget, but a progressive
// or CMYK JPEG must be smaller. The other formats decode into at most four
// bytes per pixel.
func decodeBytesPerPixel(data []byte, format string) int64 {
	if format != "jpeg" {
		return 4
	}
	comps, progressive, ok := jpegFrame(data)
	if !ok || comps < 1 || comps > 4 {
		comps, progressive = 4, true // unreadable here: assume the worst
	}
	n := int64(comps)
	if progressive {
		n += 4 * int64(comps)
	}
	if comps == 4 {
		n += 4
	}
	return n
}

// jpegFrame reads a JPEG's frame header (SOFn) for its number of components
// and whether it is progressive. It walks the marker segments from the
// start; ok is false when no frame header comes before the first scan.
func jpegFrame(data []byte) (comps int, progressive, ok bool) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0, false, false
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 0, false, false
		}
		m := data[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // markers without a length
			i += 2
			continue
		case m == 0xD9 || m == 0xDA: // end of image, or a scan, before any frame
			return 0, false, false
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if n < 2 || i+2+n > len(data) {
			return 0, false, false
		}
		// SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
			if n < 8 {
				return 0, false, false
			}
			return int(data[i+9]), m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE, true
		}
		i += 2 + n
	}
	return 0, false, false
}
