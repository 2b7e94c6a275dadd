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

const msgNotAnImage = "Upload a valid image. The file you uploaded was either not an image or a corrupted image."

// pictureSlots bounds how many pictures are decoded at once: a 25-megapixel
// image takes 100 MB while it is worked on, and a Pi has little to spare.
var pictureSlots = make(chan struct{}, 2)

// processPicture checks that data is a JPEG, PNG, GIF or WebP image by its
// content, scales it to at most maxPictureSide on its long side and encodes
// it anew. Re-encoding drops every metadata block, EXIF and GPS included.
func processPicture(data []byte) (*store.Picture, error) {
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
		cfg.Width*cfg.Height > maxSourcePixels {
		return nil, store.Invalid("profile_picture", "Image dimensions are too large.")
	}
	pictureSlots <- struct{}{}
	defer func() { <-pictureSlots }()
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
