package web

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

func TestProfileEditJSON(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("edit@example.com")
	e.do("PUT", "/mysite/user/v1/profile/edit/", u.Access, map[string]any{
		"nickname": "에디", "contact_number": "+82 10-1234-5678", "status": "공부 중", "is_private": true,
	}).wantStatus(http.StatusOK).wantBody(`"nickname":"에디"`, `"contact_number":"+82 10-1234-5678"`, `"status":"공부 중"`, `"is_private":true`)

	// PATCH is partial: what is not sent keeps its value.
	e.do("PATCH", "/mysite/user/v1/profile/edit", u.Access, map[string]any{"status": ""}).
		wantStatus(http.StatusOK).wantBody(`"nickname":"에디"`, `"status":""`, `"is_private":true`)

	bad := []struct {
		name string
		body map[string]any
		want string
	}{
		{"blank nickname", map[string]any{"nickname": "  "}, `"nickname":["This field may not be blank."]`},
		{"long status", map[string]any{"status": strings.Repeat("x", 201)}, `"status":["Ensure this field has no more than 200 characters."]`},
		{"letters in contact", map[string]any{"contact_number": "call me"}, `"contact_number":["Enter a valid phone number`},
		{"control chars", map[string]any{"nickname": "a\x00b"}, `"nickname":["This field may not contain control characters."]`},
		{"picture as text", map[string]any{"profile_picture": "http://x/y.png"}, `"profile_picture":["The submitted data was not a file.`},
		{"one bad field spoils all", map[string]any{"nickname": "fine", "contact_number": "nope"}, `"contact_number"`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, tt.body).wantStatus(http.StatusBadRequest).wantBody(tt.want)
			e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantStatus(http.StatusOK).
				wantBody(`"nickname":"에디"`, `"contact_number":"+82 10-1234-5678"`, `"is_private":true`)
		})
	}
	e.do("PUT", "/mysite/user/v1/profile/edit/", "", map[string]any{"status": "x"}).wantStatus(http.StatusUnauthorized)
}

// multipartBody builds a multipart body with text fields and, if data is non-nil, a
// file under "profile_picture".
func multipartBody(t testing.TB, fields map[string]string, filename string, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if data != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="profile_picture"; filename="`+filename+`"`)
		h.Set("Content-Type", "image/png")
		w, _ := mw.CreatePart(h)
		w.Write(data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func (e *testEnv) upload(token string, fields map[string]string, filename string, data []byte) *response {
	e.t.Helper()
	ct, body := multipartBody(e.t, fields, filename, data)
	req, _ := http.NewRequest("PATCH", e.http.URL+"/mysite/user/v1/profile/edit/", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	return e.send(req)
}

func testImage(w, h int, opaque bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint8(255)
			if !opaque && x < w/2 {
				a = 0
			}
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, a})
		}
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngBytesNoT(img image.Image, buf *bytes.Buffer) []byte {
	buf.Reset()
	png.Encode(buf, img)
	return append([]byte(nil), buf.Bytes()...)
}

// jpegWithGPS is a JPEG carrying an EXIF block with a GPS position, as a
// phone camera writes it.
func jpegWithGPS(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(800, 600, true), nil); err != nil {
		t.Fatal(err)
	}
	// TIFF, big-endian: IFD0 with one entry pointing to a GPS IFD that holds
	// GPSLatitudeRef "N" and a three-rational GPSLatitude.
	be := binary.BigEndian
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	ifd0 := make([]byte, 2+12+4)
	be.PutUint16(ifd0, 1)
	be.PutUint16(ifd0[2:], 0x8825) // GPSInfo
	be.PutUint16(ifd0[4:], 4)      // LONG
	be.PutUint32(ifd0[6:], 1)
	be.PutUint32(ifd0[10:], 8+18) // GPS IFD right after IFD0
	tiff = append(tiff, ifd0...)
	gps := make([]byte, 2+2*12+4)
	be.PutUint16(gps, 2)
	be.PutUint16(gps[2:], 0x0001) // GPSLatitudeRef
	be.PutUint16(gps[4:], 2)      // ASCII
	be.PutUint32(gps[6:], 2)
	copy(gps[10:], "N\x00")
	be.PutUint16(gps[14:], 0x0002) // GPSLatitude
	be.PutUint16(gps[16:], 5)      // RATIONAL
	be.PutUint32(gps[18:], 3)
	be.PutUint32(gps[22:], uint32(8+18+len(gps)))
	tiff = append(tiff, gps...)
	for _, v := range []uint32{37, 1, 33, 1, 4812, 100} { // 37°33'48.12"
		tiff = be.AppendUint32(tiff, v)
	}
	return withExif(buf.Bytes(), tiff)
}

// withExif puts an APP1 Exif segment holding tiff right after a JPEG's SOI.
func withExif(jpegData, tiff []byte) []byte {
	exif := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(exif)+2))
	seg = append(seg, exif...)
	return append(append(append([]byte{}, jpegData[:2]...), seg...), jpegData[2:]...)
}

// exifOrientation is a little-endian TIFF whose first directory holds only
// an Orientation tag of value o.
func exifOrientation(o uint16) []byte {
	le := binary.LittleEndian
	t := []byte("II\x2a\x00\x08\x00\x00\x00")
	t = le.AppendUint16(t, 1)      // one entry
	t = le.AppendUint16(t, 0x0112) // Orientation
	t = le.AppendUint16(t, 3)      // SHORT
	t = le.AppendUint32(t, 1)
	t = le.AppendUint16(t, o)
	t = le.AppendUint16(t, 0)
	return le.AppendUint32(t, 0) // no next directory
}

// A phone photo taken upright is stored sideways with orientation 6; the
// stored picture must come out upright, with the tag gone.
func TestProfilePictureFollowsExifOrientation(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("phone@example.com")
	// Stored as the sensor saw it: 80 wide, 40 high, left half red.
	img := image.NewRGBA(image.Rect(0, 0, 80, 40))
	for y := range 40 {
		for x := range 80 {
			c := color.RGBA{0, 0, 255, 255}
			if x < 40 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	var p struct {
		ProfilePicture string `json:"profile_picture"`
	}
	e.upload(u.Access, nil, "photo.jpg", withExif(buf.Bytes(), exifOrientation(6))).wantStatus(http.StatusOK).decode(&p)
	pic := e.do("GET", strings.TrimPrefix(p.ProfilePicture, e.http.URL), "", nil).wantStatus(http.StatusOK)
	got, err := jpeg.Decode(bytes.NewReader(pic.Body))
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Bounds(); b.Dx() != 40 || b.Dy() != 80 {
		t.Fatalf("stored %dx%d, want 40x80 (turned upright)", b.Dx(), b.Dy())
	}
	// A quarter turn clockwise brings the left half to the top.
	if r, _, bl, _ := got.At(20, 10).RGBA(); r < 0x8000 || bl > 0x8000 {
		t.Errorf("top of the picture is not red: r=%x b=%x", r, bl)
	}
	if r, _, bl, _ := got.At(20, 70).RGBA(); r > 0x8000 || bl < 0x8000 {
		t.Errorf("bottom of the picture is not blue: r=%x b=%x", r, bl)
	}
	if bytes.Contains(pic.Body, []byte("Exif")) {
		t.Error("the EXIF block survived")
	}
}

// pngHeaderOnly is the start of a PNG whose header claims w×h pixels: a
// decompression bomb needs no more than that to do its harm.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := binary.BigEndian.AppendUint32(nil, 13)
	chunk = append(chunk, "IHDR"...)
	chunk = append(chunk, ihdr...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append([]byte("\x89PNG\r\n\x1a\n"), chunk...)
}

func TestProfilePictureUpload(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("pic@example.com")

	var p struct {
		Nickname       string
		ProfilePicture *string `json:"profile_picture"`
	}
	e.upload(u.Access, map[string]string{"nickname": "Pic", "is_private": "false"}, "me.jpg", jpegWithGPS(t)).
		wantStatus(http.StatusOK).decode(&p)
	if p.Nickname != "Pic" || p.ProfilePicture == nil || !strings.HasPrefix(*p.ProfilePicture, "/media/pictures/") {
		t.Fatalf("profile after upload = %+v", p)
	}
	pic := e.do("GET", strings.TrimPrefix(*p.ProfilePicture, e.http.URL), "", nil).wantStatus(http.StatusOK)
	if ct := pic.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("picture Content-Type = %q", ct)
	}
	if bytes.Contains(pic.Body, []byte("Exif")) || bytes.Contains(pic.Body, []byte{0x88, 0x25}) {
		t.Fatal("EXIF/GPS survived the upload")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(pic.Body))
	if err != nil || cfg.Width != 512 || cfg.Height != 384 {
		t.Fatalf("stored picture %dx%d (%v), want 512x384", cfg.Width, cfg.Height, err)
	}
	if cc := pic.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || pic.Header.Get("ETag") == "" {
		t.Fatalf("picture caching headers: Cache-Control %q, ETag %q", cc, pic.Header.Get("ETag"))
	}
	req, _ := http.NewRequest("GET", e.http.URL+*p.ProfilePicture, nil)
	req.Header.Set("If-None-Match", pic.Header.Get("ETag"))
	e.send(req).wantStatus(http.StatusNotModified)

	// A transparent PNG stays a PNG (JPEG has no alpha); a small one is not enlarged.
	e.upload(u.Access, nil, "t.png", pngBytes(t, testImage(100, 50, false))).wantStatus(http.StatusOK).decode(&p)
	pic = e.do("GET", strings.TrimPrefix(*p.ProfilePicture, e.http.URL), "", nil).wantStatus(http.StatusOK)
	cfg, format, _ := image.DecodeConfig(bytes.NewReader(pic.Body))
	if format != "png" || cfg.Width != 100 || cfg.Height != 50 {
		t.Fatalf("transparent picture stored as %s %dx%d, want png 100x50", format, cfg.Width, cfg.Height)
	}

	// Bad pictures change nothing, not even the text fields sent with them.
	bad := []struct {
		name string
		data []byte
		want string
	}{
		{"text renamed .png", []byte("just some text, honestly"), "Upload a valid image."},
		{"decompression bomb", pngHeaderOnly(100_000, 100_000), "Image dimensions are too large."},
		{"truncated png", pngBytes(t, testImage(64, 64, true))[:80], "Upload a valid image."},
		{"bmp", append([]byte("BM"), make([]byte, 60)...), "Upload a valid image."},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e.upload(u.Access, map[string]string{"nickname": "Changed"}, "x.png", tt.data).
				wantStatus(http.StatusBadRequest).wantBody(`"profile_picture":["` + tt.want)
			e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantBody(`"nickname":"Pic"`, *p.ProfilePicture)
		})
	}

	// An upload over the cap is refused as such.
	e2 := newTestEnvWith(t, Config{MaxUploadBytes: 64 << 10})
	u2 := e2.register("big@example.com")
	e2.upload(u2.Access, nil, "big.png", bytes.Repeat([]byte{1}, 100<<10)).wantStatus(http.StatusRequestEntityTooLarge)

	// JSON null removes the picture.
	e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, map[string]any{"profile_picture": nil}).
		wantStatus(http.StatusOK).wantBody(`"profile_picture":null`)
	e.do("GET", strings.TrimPrefix(*p.ProfilePicture, e.http.URL), "", nil).wantStatus(http.StatusNotFound)
	e.do("GET", "/media/pictures/abc", "", nil).wantStatus(http.StatusNotFound)
}

func TestProfilePictureURLUsesBaseURL(t *testing.T) {
	e := newTestEnvWith(t, Config{BaseURL: "https://club.example.org/"})
	u := e.register("base@example.com")
	e.upload(u.Access, nil, "a.png", pngBytes(t, testImage(10, 10, true))).
		wantStatus(http.StatusOK).wantBody(`"profile_picture":"https://club.example.org/media/pictures/`)
}
