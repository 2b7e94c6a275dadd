package web

import (
	"bytes"
	"errors"
	"image"
	"net/http"
	"testing"

	"maru/store"
)

// FuzzDecodeJSON feeds arbitrary bodies to the request decoder: it must
// never panic, and must fail only with a client error (a DRF-shaped 400),
// never with a raw error that would become a 500.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@b.co","password":"x"}`, `{"is_private":true,"nickname":null}`, `[]`, `"str"`, `1e999`,
		`{"email":{"a":1}}`, `{"profile_picture":[1,2]}`, `{`, `{"a":1}{"b":2}`, "\xff\xfe", `{"status":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{new(registrationRequest), new(profileEditRequest), new(refreshRequest)} {
			err := decodeJSON(body, dst)
			if err == nil {
				continue
			}
			var ae *apiError
			var ve *store.ValidationError
			switch {
			case errors.As(err, &ae):
				if ae.status != http.StatusBadRequest {
					t.Fatalf("decode %q: status %d, want 400", body, ae.status)
				}
			case errors.As(err, &ve):
				if len(ve.Fields) == 0 {
					t.Fatalf("decode %q: empty validation error", body)
				}
			default:
				t.Fatalf("decode %q: unclassified error %v", body, err)
			}
		}
	})
}

// FuzzProcessPicture feeds arbitrary bytes to the picture pipeline: it must
// never panic, and whatever it accepts comes out as a small JPEG or PNG.
func FuzzProcessPicture(f *testing.F) {
	var buf bytes.Buffer
	f.Add(pngHeaderOnly(1, 1))
	f.Add(pngHeaderOnly(1<<20, 1<<20))
	img := testImage(600, 20, false)
	f.Add(pngBytesNoT(img, &buf))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	slots := make(chan struct{}, 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		pic, err := processPicture(data, slots)
		if err != nil {
			var ve *store.ValidationError
			if !errors.As(err, &ve) || !ve.Has("profile_picture") {
				t.Fatalf("error %v is not a profile_picture validation error", err)
			}
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(pic.Data))
		if err != nil || (format != "jpeg" && format != "png") || cfg.Width > maxPictureSide || cfg.Height > maxPictureSide {
			t.Fatalf("accepted picture re-encoded as %s %dx%d (%v)", format, cfg.Width, cfg.Height, err)
		}
	})
}
