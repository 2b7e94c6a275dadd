package store

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkText validates a free-text field: no control characters, at most max runes.
func checkText(v *ValidationError, field, s string, max int) {
	if n := utf8.RuneCountInString(s); n > max {
		v.Add(field, fmt.Sprintf("Ensure this field has no more than %d characters.", max))
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		v.Add(field, "This field may not contain control characters.")
	}
}
