package web

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"maru/store"
)

// syntheticJPEG is a flat grey JPEG of w×h pixels with comps components (3
// for YCbCr; 4 for CMYK, with the Adobe marker that says so), baseline or
// progressive. Its scans code nothing but zero DC coefficients, one bit
// each, so the file is tiny whatever its size in pixels, yet a decoder
// builds the whole image: what a decompression bomb does.
func syntheticJPEG(w, h, comps int, progressive bool) []byte {
	var b bytes.Buffer
	seg := func(marker byte, payload ...byte) {
		b.Write([]byte{0xFF, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)})
		b.Write(payload)
	}
	b.Write([]byte{0xFF, 0xD8})
	if comps == 4 {
		seg(0xEE, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0) // transform 0: CMYK as is
	}
	seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)...)
	sof := byte(0xC0)
	if progressive {
		sof = 0xC2
	}
	frame := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(comps)}
	for i := range comps {
		frame = append(frame, byte(i+1), 0x11, 0)
	}
	seg(sof, frame...)
	// One code, "0", in each table: DC difference 0, and AC end-of-block.
	oneCode := append([]byte{1}, make([]byte, 15)...)
	seg(0xC4, append(append([]byte{0x00}, oneCode...), 0)...)
	seg(0xC4, append(append([]byte{0x10}, oneCode...), 0)...)
	scan := []byte{byte(comps)}
	for i := range comps {
		scan = append(scan, byte(i+1), 0x00)
	}
	bitsPerBlock, se := 2, byte(63) // DC, then end of block
	if progressive {
		bitsPerBlock, se = 1, 0 // a first scan of the DC coefficients alone
	}
	seg(0xDA, append(scan, 0, se, 0)...)
	bits := ((w + 7) / 8) * ((h + 7) / 8) * comps * bitsPerBlock
	b.Write(make([]byte, bits/8))
	if bits%8 != 0 {
		b.WriteByte(byte(1<<(8-bits%8) - 1)) // padded with ones
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// A progressive or CMYK JPEG takes several times the memory of a baseline
// colour one to decode, so it is decoded only under a smaller pixel
// budget, read from its header: two decodes must fit in 256 MB.
func TestJPEGDecodeBudget(t *testing.T) {
	cases := []struct {
		name        string
		w, h, comps int
		progressive bool
		ok          bool
	}{
		{"baseline colour, 9 MP", 3000, 3000, 3, false, true},
		{"progressive colour, 1 MP", 1200, 800, 3, true, true},
		{"progressive colour, 9 MP", 3000, 3000, 3, true, false},
		{"progressive colour, 12 MP", 4000, 3000, 3, true, false},
		{"baseline CMYK, 1 MP", 1000, 1000, 4, false, true},
		{"baseline CMYK, 20 MP", 5000, 4000, 4, false, false},
		{"progressive CMYK, 7.5 MP", 3000, 2500, 4, true, false},
	}
	slots := make(chan struct{}, 1)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := syntheticJPEG(c.w, c.h, c.comps, c.progressive)
			if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != c.w || cfg.Height != c.h {
				t.Fatalf("synthetic JPEG header: %+v, %v", cfg, err)
			}
			if comps, progressive, ok := jpegFrame(data); !ok || comps != c.comps || progressive != c.progressive {
				t.Fatalf("jpegFrame = %d, %v, %v", comps, progressive, ok)
			}
			if need := int64(c.w) * int64(c.h) * decodeBytesPerPixel(data, "jpeg"); need > decodeBudget == c.ok {
				t.Fatalf("estimated %d MB to decode; budget %d MB", need>>20, decodeBudget>>20)
			}
			pic, err := processPicture(data, slots)
			if !c.ok {
				var ve *store.ValidationError
				if err == nil || !errors.As(err, &ve) || !strings.Contains(fmt.Sprint(ve.Fields["profile_picture"]), "too large") {
					t.Fatalf("over the budget: %v, want a 400 on profile_picture", err)
				}
				return
			}
			if err != nil || pic == nil {
				t.Fatalf("within the budget: %v", err)
			}
		})
	}
}

// Picture URLs carry 128 random bits: one user's cannot be found from
// another's, and the numeric ids they once had name nothing.
func TestPictureURLsAreUnguessable(t *testing.T) {
	e := newTestEnv(t)
	key := regexp.MustCompile(`^/media/pictures/[0-9a-f]{32}$`)
	seen := map[string]bool{}
	var ids []int64
	for _, email := range []string{"a@example.com", "b@example.com"} {
		u := e.register(email)
		var p profileJSON
		e.upload(u.Access, nil, "me.png", pngBytes(t, testImage(20, 20, true))).wantStatus(http.StatusOK).decode(&p)
		if p.ProfilePicture == nil || !key.MatchString(*p.ProfilePicture) || seen[*p.ProfilePicture] {
			t.Fatalf("picture URL %v, want /media/pictures/ and 32 fresh hex digits", p.ProfilePicture)
		}
		seen[*p.ProfilePicture] = true
		e.do("GET", *p.ProfilePicture, "", nil).wantStatus(http.StatusOK)
		su, err := e.store.UserByEmail(t.Context(), email)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, su.PictureID)
	}
	for _, id := range ids {
		e.do("GET", fmt.Sprint("/media/pictures/", id), "", nil).wantStatus(http.StatusNotFound)
	}
	e.do("GET", "/media/pictures/"+strings.Repeat("0", 32), "", nil).wantStatus(http.StatusNotFound)
	e.do("GET", "/media/pictures/"+strings.Repeat("G", 32), "", nil).wantStatus(http.StatusNotFound)
}

// opaqueImage hides an image's concrete type, so scaleDown reads it the
// slow, general way.
type opaqueImage struct{ image.Image }

// The area average keeps a flat colour flat and the mean of a pattern,
// scales within the box keeping the aspect ratio, and reads every kind of
// decoded image as the general path does.
func TestScaleDown(t *testing.T) {
	flat := image.NewNRGBA(image.Rect(0, 0, 1000, 700))
	stripes := image.NewGray(image.Rect(0, 0, 999, 1501))
	photo := image.NewYCbCr(image.Rect(0, 0, 1200, 900), image.YCbCrSubsampleRatio420)
	for i := range flat.Pix {
		flat.Pix[i] = []uint8{200, 100, 50, 128}[i%4]
	}
	for y := range 1501 {
		for x := range 999 {
			stripes.Pix[y*999+x] = uint8(255 * (x % 2))
		}
	}
	for i := range photo.Y {
		photo.Y[i] = uint8(i * 7)
	}
	for i := range photo.Cb {
		photo.Cb[i], photo.Cr[i] = uint8(i*3), uint8(255-i)
	}

	for _, c := range []struct {
		name string
		img  image.Image
		w, h int
	}{{"flat", flat, 512, 358}, {"stripes", stripes, 340, 512}, {"photo", photo, 512, 384}} {
		got := scaleDown(c.img, 512)
		if got.Bounds().Dx() != c.w || got.Bounds().Dy() != c.h {
			t.Fatalf("%s: %v, want %dx%d", c.name, got.Bounds(), c.w, c.h)
		}
		slow := scaleDown(opaqueImage{c.img}, 512)
		for i := range got.Pix {
			if d := int(got.Pix[i]) - int(slow.Pix[i]); d < -1 || d > 1 {
				t.Fatalf("%s: byte %d is %d read fast, %d read slowly", c.name, i, got.Pix[i], slow.Pix[i])
			}
		}
	}
	// 128/255 alpha premultiplies 200, 100, 50 to about 100, 50, 25.
	for i, v := range scaleDown(flat, 512).Pix {
		if want := []int{100, 50, 25, 128}[i%4]; int(v) < want-1 || int(v) > want+1 {
			t.Fatalf("flat: byte %d is %d, want %d", i, v, want)
		}
	}
	sum := 0
	got := scaleDown(stripes, 512)
	for i := 0; i < len(got.Pix); i += 4 {
		sum += int(got.Pix[i])
	}
	if mean := float64(sum) / float64(len(got.Pix)/4); mean < 126 || mean > 129 {
		t.Fatalf("stripes: mean %.1f, want 127.5", mean)
	}
}

// BenchmarkScaleDown scales a 12-megapixel photo, as a phone takes it, to
// a profile picture.
func BenchmarkScaleDown(b *testing.B) {
	photo := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for i := range photo.Y {
		photo.Y[i] = uint8(i)
	}
	for b.Loop() {
		scaleDown(photo, maxPictureSide)
	}
}
