package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The languages of the pages. The first is the fallback for a browser that
// asks for neither.
var languages = []string{"en", "ko"}

// langCookie remembers the language a person picked with the switch.
const langCookie = "maru_lang"

// text is one entry of the catalog: the same sentence in each language.
type text struct{ en, ko string }

func (t text) in(lang string) string {
	if lang == "ko" {
		return t.ko
	}
	return t.en
}

// pageLang picks the language of a page: the one the person chose with the
// switch, else the first of ours their browser asks for, else English.
func pageLang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && knownLang(c.Value) {
		return c.Value
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

func knownLang(l string) bool { return l == "en" || l == "ko" }

// acceptLanguage chooses between our languages by an Accept-Language header,
// honouring its q values ("ko-KR,ko;q=0.9,en;q=0.8").
func acceptLanguage(h string) string {
	best, bestQ := languages[0], -1.0
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if knownLang(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

// translate looks key up in the catalog; args fill its %-verbs. A key that
// is not there shows itself, so a missing entry is visible at a glance (and
// TestCatalogCoversTemplates fails first).
func translate(lang, key string, args ...any) string {
	t, ok := catalog[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return t.in(lang)
	}
	return fmt.Sprintf(t.in(lang), args...)
}

// ago says how long ago t was, in lang, the way the board and chat show it.
// The exact time goes into the title attribute beside it.
func ago(lang string, t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return translate(lang, "time.now")
	case d < time.Hour:
		return translate(lang, "time.minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		return translate(lang, "time.hours", int(d/time.Hour))
	case d < 30*24*time.Hour:
		return translate(lang, "time.days", int(d/(24*time.Hour)))
	}
	if lang == "ko" {
		return t.Format("2006. 1. 2.")
	}
	return t.Format("2 Jan 2006")
}
