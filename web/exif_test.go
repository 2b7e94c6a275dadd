package web

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

// Every orientation, on a 3×2 image whose pixels are numbered, against the
// picture each one should show.
func TestOrient(t *testing.T) {
	// Stored:  0 1 2
	//          3 4 5
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		src.Pix[4*i] = byte(i)
	}
	tests := []struct {
		o    int
		w, h int
		want []byte // pixel numbers of the result, row by row
	}{
		{1, 3, 2, []byte{0, 1, 2, 3, 4, 5}},
		{2, 3, 2, []byte{2, 1, 0, 5, 4, 3}},
		{3, 3, 2, []byte{5, 4, 3, 2, 1, 0}},
		{4, 3, 2, []byte{3, 4, 5, 0, 1, 2}},
		{5, 2, 3, []byte{0, 3, 1, 4, 2, 5}},
		{6, 2, 3, []byte{3, 0, 4, 1, 5, 2}},
		{7, 2, 3, []byte{5, 2, 4, 1, 3, 0}},
		{8, 2, 3, []byte{2, 5, 1, 4, 0, 3}},
		{9, 3, 2, []byte{0, 1, 2, 3, 4, 5}}, // not an orientation: left alone
	}
	for _, tt := range tests {
		got := orient(src, tt.o)
		if b := got.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("orientation %d: %dx%d, want %dx%d", tt.o, b.Dx(), b.Dy(), tt.w, tt.h)
			continue
		}
		var px []byte
		for i := 0; i < len(got.Pix); i += 4 {
			px = append(px, got.Pix[i])
		}
		if !bytes.Equal(px, tt.want) {
			t.Errorf("orientation %d: pixels %v, want %v", tt.o, px, tt.want)
		}
	}
}

func TestJPEGOrientation(t *testing.T) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil)
	plain := buf.Bytes()
	for o := uint16(1); o <= 8; o++ {
		if got := jpegOrientation(withExif(plain, exifOrientation(o))); got != int(o) {
			t.Errorf("orientation %d read as %d", o, got)
		}
	}
	bigEndian := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
	for name, data := range map[string][]byte{
		"no exif":          plain,
		"out of range":     withExif(plain, exifOrientation(99)),
		"truncated":        withExif(plain, exifOrientation(6))[:30],
		"not a jpeg":       []byte("hello"),
		"directory beyond": withExif(plain, []byte("II\x2a\x00\xff\xff\x00\x00")),
	} {
		if got := jpegOrientation(data); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}
	if got := jpegOrientation(withExif(plain, bigEndian)); got != 6 {
		t.Errorf("big-endian orientation 6 read as %d", got)
	}
}

// FuzzJPEGOrientation: whatever the bytes, the reader stays in bounds and
// answers an orientation from 1 to 8.
func FuzzJPEGOrientation(f *testing.F) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4)), nil)
	f.Add(withExif(buf.Bytes(), exifOrientation(6)))
	f.Add(withExif(buf.Bytes(), []byte("MM\x00\x2a\x00\x00\x00\x08\x7f\xff")))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
