package web

import "testing"

// A validation message with a limit in it is translated with its number,
// whatever field and limit it is about.
func TestTranslateMessageWithNumber(t *testing.T) {
	tests := []struct{ lang, msg, want string }{
		{"ko", "Ensure this field has no more than 50 characters.", "50자 이하로 입력하세요."},
		{"en", "Ensure this field has no more than 200 characters.", "At most 200 characters."},
		{"ko", "This field may not be blank.", "비워 둘 수 없습니다."},
		{"ko", "Some message 12 nobody knows.", "Some message 12 nobody knows."},
		{"ko", "Ensure this field has no more than 99999999999999999999 characters.", "Ensure this field has no more than 99999999999999999999 characters."},
	}
	for _, tt := range tests {
		if got := translateMessage(tt.lang, tt.msg); got != tt.want {
			t.Errorf("translateMessage(%q, %q) = %q, want %q", tt.lang, tt.msg, got, tt.want)
		}
	}
}
