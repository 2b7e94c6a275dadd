package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Hostile text in every place a person can put some (a post's title,
// content and tags, a nickname, a status, a category, a room's name, a
// chat message, live and stored) is shown as text on every page that
// shows it: no page runs any of it or turns it into an element, an event
// handler or a script link. The check looks at the document, not at
// whether the CSP held, so it would catch an escaping bug the CSP hid.
func TestBrowserNothingRuns(t *testing.T) {
	c := newChrome(t)
	e := newTestEnv(t)
	base := e.http.URL
	ctx := context.Background()

	const (
		script = `<script>xss()</script>`
		img    = `<img src=x onerror=xss()>`
		svg    = `"><svg onload=xss()>`
	)
	mallory := e.register("mallory@example.com")
	e.makeAdmin(mallory)
	e.do("PATCH", "/mysite/user/v1/profile/edit/", mallory.Access, map[string]any{
		"nickname": img, "status": script + svg,
	}).wantStatus(http.StatusOK)
	cat, err := e.store.CreateCategory(ctx, `<b onclick=xss()>c`)
	if err != nil {
		t.Fatal(err)
	}
	post := e.writePost(mallory, map[string]any{
		"title":    script + svg,
		"category": cat.ID,
		"tags":     []string{img, `javascript:xss()`},
		"content": strings.Join([]string{
			script, img, svg,
			"[click](javascript:xss()) [data](data:text/html;base64,PHNjcmlwdD54c3MoKTwvc2NyaXB0Pg==)",
			"[vb](vbscript:xss()) <a href=\"javascript:xss()\">raw</a> ![pic](javascript:xss())",
			"<iframe src=\"javascript:xss()\"></iframe> <object data=\"data:text/html,x\"></object>",
			"`" + script + "` and\n\n    " + img,
		}, "\n\n"),
	})
	room := e.createRoom(mallory, script+img)
	e.do("POST", "/api/chat/message/", mallory.Access, map[string]any{"message": img + svg, "room": room.ID}).
		wantStatus(http.StatusCreated)

	viewer := e.register("viewer@example.com")
	e.do("POST", "/user/add-friend/", viewer.Access, map[string]string{"email": mallory.Email}).wantStatus(http.StatusCreated)
	e.do("POST", "/user/add-friend/", mallory.Access, map[string]string{"email": viewer.Email}).wantStatus(http.StatusCreated)

	postID := strconv.FormatInt(post.ID, 10)
	roomID := strconv.FormatInt(room.ID, 10)
	pages := map[string][]string{
		viewer.Email: {
			"/", "/?tag=" + img, "/?search=" + script, "/?category=" + strconv.FormatInt(cat.ID, 10),
			"/posts/" + postID, "/users/" + strconv.FormatInt(mallory.ID, 10), "/friends", "/chat", "/chat/" + roomID,
		},
		mallory.Email: {
			"/profile", "/profile/edit", "/posts/" + postID + "/edit", "/posts/" + postID + "/delete",
			"/admin/users?search=mallory", "/admin/categories", "/admin/rooms", "/admin/audit", "/chat/" + roomID,
		},
	}
	for _, who := range []string{viewer.Email, mallory.Email} {
		tb := c.tab(t, 1024)
		tb.login(base, who)
		// xss is what every payload calls: were any to run, it would say.
		for _, path := range pages[who] {
			tb.do(
				chromedp.Navigate(base+path),
				chromedp.WaitReady(css(`footer.site`)),
				chromedp.Evaluate[chromedp.Void](`window.xssRan = false; window.xss = () => { window.xssRan = true }`),
			)
			if strings.HasPrefix(path, "/chat/") {
				// A message arriving live goes through chat.js.
				tb.waitJS(chatStatus + ` === "Connected"`)
				e.do("POST", "/api/chat/message/", mallory.Access, map[string]any{"message": script + svg, "room": room.ID}).
					wantStatus(http.StatusCreated)
				tb.waitJS(hasText("#chat-msgs .msg .text", script+svg))
			}
			found := eval[[]string](tb, hostileDOM)
			if len(found) > 0 {
				t.Errorf("%s as %s: %s (screenshot: %s)", path, who, strings.Join(found, "; "), tb.failShot())
			}
			if !eval[bool](tb, `document.body.innerText.includes("xss()")`) {
				t.Errorf("%s as %s: none of the hostile text is shown, so nothing was tested", path, who)
			}
		}
	}
}

// hostileDOM lists what in the document came from a payload rather than
// from the page: an element a payload would make, an inline script, an
// event handler attribute, a link or source to a script or data URL, and
// whether xss() ran.
const hostileDOM = `(() => {
	const found = [];
	if (window.xssRan) found.push("xss() ran");
	for (const el of document.querySelectorAll("*")) {
		const tag = el.tagName.toLowerCase();
		if (["svg", "iframe", "object", "embed"].includes(tag)) found.push("a <" + tag + "> element");
		if (tag === "img" && el.getAttribute("src") === "x") found.push("an <img src=x>");
		if (tag === "script" && !el.src) found.push("an inline script");
		if (tag === "b" && el.closest("main")) found.push("a <b> from a category name");
		for (const a of el.attributes) {
			if (a.name.startsWith("on")) found.push(tag + " " + a.name);
			if (["href", "src", "action", "formaction", "data"].includes(a.name) && /^\s*(javascript|data|vbscript):/i.test(a.value)) {
				found.push(tag + " " + a.name + "=" + a.value.slice(0, 30));
			}
		}
	}
	return found;
})()`
