package web

import (
	"strconv"
	"strings"
)

// catalog is every sentence of the pages in both languages. Each area of
// the site keeps its own table beside its handlers; this joins them, and
// TestCatalog checks that no key is missing a language or used by a
// template without an entry.
var catalog = joinTexts(siteText, accountText, boardText, postText, chatText, profileText, userText, friendText, adminText, moderationText, accountLifeText)

func joinTexts(tables ...map[string]text) map[string]text {
	all := map[string]text{}
	for _, t := range tables {
		for k, v := range t {
			if _, dup := all[k]; dup {
				panic("catalog: key " + k + " defined twice")
			}
			all[k] = v
		}
	}
	return all
}

// translateMessage puts a validation message of the store or the API (they
// speak English, as DRF's clients expect) into lang, when the catalog has it.
func translateMessage(lang, msg string) string {
	if t, ok := catalog["msg:"+msg]; ok {
		return t.in(lang)
	}
	// A message that carries a number (a limit) is looked up with the
	// number as %d, so that one entry serves every field and limit.
	start := strings.IndexAny(msg, "0123456789")
	if start < 0 {
		return msg
	}
	end := start
	for end < len(msg) && msg[end] >= '0' && msg[end] <= '9' {
		end++
	}
	key := "msg:" + msg[:start] + "%d" + msg[end:]
	n, err := strconv.Atoi(msg[start:end])
	if _, ok := catalog[key]; !ok || err != nil {
		return msg
	}
	return translate(lang, key, n)
}

// siteText is the frame of every page: navigation, errors, times.
var siteText = map[string]text{
	"nav.label":    {"Site", "사이트"},
	"nav.skip":     {"Skip to content", "본문으로 건너뛰기"},
	"nav.board":    {"Board", "게시판"},
	"nav.chat":     {"Chat", "채팅"},
	"nav.friends":  {"Friends", "친구"},
	"nav.admin":    {"Admin", "관리"},
	"nav.login":    {"Log in", "로그인"},
	"nav.logout":   {"Log out", "로그아웃"},
	"nav.register": {"Sign up", "회원가입"},
	"lang.label":   {"Language", "언어"},
	"lang.switch":  {"Change", "변경"},
	"footer.api":   {"API reference", "API 문서"},
	"pager.label":  {"Pages", "페이지"},
	"pager.prev":   {"Previous page", "이전 페이지"},
	"pager.next":   {"Next page", "다음 페이지"},

	"time.now":     {"just now", "방금 전"},
	"time.minutes": {"%d min ago", "%d분 전"},
	"time.hours":   {"%d h ago", "%d시간 전"},
	"time.days":    {"%d days ago", "%d일 전"},

	"error.title.400": {"Bad request", "잘못된 요청"},
	"error.title.401": {"Please log in", "로그인이 필요합니다"},
	"error.title.403": {"Not allowed", "권한이 없습니다"},
	"error.title.404": {"Page not found", "페이지를 찾을 수 없습니다"},
	"error.title.405": {"Method not allowed", "허용되지 않는 요청"},
	"error.title.413": {"Too large", "너무 큽니다"},
	"error.title.415": {"Unsupported content", "지원하지 않는 형식"},
	"error.title.429": {"Slow down", "잠시 후 다시 시도하세요"},
	"error.title.500": {"Something went wrong", "문제가 발생했습니다"},
	"error.title.503": {"Busy", "서버가 바쁩니다"},
	"error.400":       {"The request could not be understood.", "요청을 이해할 수 없습니다."},
	"error.401":       {"You need to log in to see this page.", "이 페이지를 보려면 로그인하세요."},
	"error.403":       {"You do not have permission to see or do this.", "이 작업을 할 권한이 없습니다."},
	"error.404":       {"There is nothing at this address. It may have been deleted.", "이 주소에는 아무것도 없습니다. 삭제되었을 수 있습니다."},
	"error.405":       {"This page does not take that kind of request.", "이 페이지는 그런 요청을 받지 않습니다."},
	"error.413":       {"What you sent is larger than this server accepts.", "보낸 내용이 서버가 받는 크기보다 큽니다."},
	"error.429":       {"Too many attempts. Please wait a little and try again.", "시도가 너무 많습니다. 잠시 후 다시 시도하세요."},
	"error.500":       {"The server could not finish this request. Please try again.", "서버가 요청을 끝내지 못했습니다. 다시 시도해 주세요."},
	"error.503":       {"The server is busy. Please try again in a moment.", "서버가 바쁩니다. 잠시 후 다시 시도하세요."},
	"error.other":     {"The request could not be completed.", "요청을 완료할 수 없습니다."},
	"error.crossorigin": {"This form was sent from another site, so it was refused. Reload the page and try again.",
		"다른 사이트에서 보낸 요청이라 거부되었습니다. 페이지를 새로 고친 뒤 다시 시도하세요."},
	"error.session":  {"Your browser session could not be read. Please log in again.", "브라우저 세션을 읽을 수 없습니다. 다시 로그인하세요."},
	"error.conflict": {"This change conflicts with existing data.", "기존 데이터와 충돌하는 변경입니다."},
	"error.home":     {"Back to the board", "게시판으로 돌아가기"},

	"msg:This field is required.":                           {"This field is required.", "필수 항목입니다."},
	"msg:This field may not be blank.":                      {"This field may not be blank.", "비워 둘 수 없습니다."},
	"msg:Ensure this field has no more than %d characters.": {"At most %d characters.", "%d자 이하로 입력하세요."},
	"msg:This field may not contain control characters.":    {"This field may not contain control characters.", "제어 문자는 쓸 수 없습니다."},
}
