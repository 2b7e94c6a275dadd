package web

import (
	"bytes"
	"image"
	"image/draw"
	_ "image/gif" // registers the GIF decoder
	"image/jpeg"
	"image/png"

	xdraw "golang.org/x/image/draw"
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

// scaleDown returns img fitted within side×side. A large reduction is done in
// two steps, a cheap one to twice the size and a good one to the end, so that
// a phone photo scales quickly on a Pi and still looks right.
func scaleDown(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return toRGBA(img)
	}
	if w >= h {
		w, h = side, max(1, h*side/w)
	} else {
		w, h = max(1, w*side/h), side
	}
	if b.Dx() > 4*w {
		mid := image.NewRGBA(image.Rect(0, 0, 2*w, 2*h))
		xdraw.ApproxBiLinear.Scale(mid, mid.Bounds(), img, b, draw.Src, nil)
		img, b = mid, mid.Bounds()
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
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
