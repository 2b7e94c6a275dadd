package web

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"maru/store"
)

// screenshotDir, when set, makes TestScreenshots write a PNG of every page
// at phone and desktop width, light and dark, Korean and English:
//
//	go test ./web -run TestScreenshots -screenshots /tmp/shots
var screenshotDir = flag.String("screenshots", "", "write screenshots of every page into this folder")

// screenshotWidths are a small phone's and a laptop's.
var screenshotWidths = []int{360, 1280}

// shot is one page to photograph, as seen by the user named (or by a
// visitor, when as is "").
type shot struct {
	name, path, as string
}

// screenshotSite is the seeded site the screenshots show: people with
// pictures, Korean and English posts, friends and a busy chat room.
type screenshotSite struct {
	e     *testEnv
	users map[string]*testUser
	post  int64 // a post with Markdown, tags and a category
	room  int64 // the busy room
	// message is one of the room's messages.
	message int64
}

func TestScreenshots(t *testing.T) {
	if *screenshotDir == "" {
		t.Skip("only with -screenshots DIR")
	}
	if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := newChrome(t)
	site := seedScreenshotSite(t)
	shots := []shot{
		{"board", "/", "mina"},
		{"board-visitor", "/", ""},
		{"board-search", "/?search=maru", "mina"},
		{"board-empty", "/?search=nothing&tag=none", "mina"},
		{"post", fmt.Sprintf("/posts/%d", site.post), "alex"},
		{"post-visitor", fmt.Sprintf("/posts/%d", site.post+3), ""},
		{"post-new", "/posts/new", "mina"},
		{"post-edit", fmt.Sprintf("/posts/%d/edit", site.post), "alex"},
		{"post-delete", fmt.Sprintf("/posts/%d/delete", site.post), "alex"},
		{"login", "/login", ""},
		{"register", "/register", ""},
		{"not-found", "/no/such/page", "mina"},
		{"chat-rooms", "/chat", "mina"},
		{"chat-room", fmt.Sprintf("/chat/%d", site.room), "mina"},
		{"profile", "/profile", "mina"},
		{"profile-edit", "/profile/edit", "mina"},
		{"user", fmt.Sprintf("/users/%d", site.users["joon"].ID), "mina"},
		{"friends", "/friends?q=example.com", "mina"},
		{"admin", "/admin", "alex"},
		{"admin-categories", "/admin/categories", "alex"},
		{"admin-users", "/admin/users?q=example", "alex"},
		{"admin-users-default", "/admin/users", "alex"},
		{"admin-disable", fmt.Sprintf("/admin/users/%d/disable", site.users["joon"].ID), "alex"},
		{"admin-invites", "/admin/invites", "alex"},
		{"admin-rooms", "/admin/rooms", "alex"},
		{"admin-room-delete", fmt.Sprintf("/admin/rooms/%d/delete", site.room), "alex"},
		{"admin-message-delete", fmt.Sprintf("/admin/messages/%d/delete", site.message), "alex"},
		{"admin-audit", "/admin/audit", "alex"},
		{"chat-room-admin", fmt.Sprintf("/chat/%d", site.room), "alex"},
	}
	for _, width := range screenshotWidths {
		for _, lang := range []string{"en", "ko"} {
			for _, scheme := range []string{"light", "dark"} {
				tb := c.tab(t, width)
				for _, s := range shots {
					site.shoot(tb, s, lang, scheme)
				}
			}
		}
	}
	t.Logf("screenshots in %s", *screenshotDir)
}

// shoot photographs one page in one language and colour scheme.
func (site *screenshotSite) shoot(tb *tab, s shot, lang, scheme string) {
	tb.t.Helper()
	base := site.e.http.URL
	cookies := []*http.Cookie{{Name: langCookie, Value: lang}}
	if s.as != "" {
		cookies = append(cookies, site.e.sessionCookie(site.users[s.as]))
	}
	tb.do(
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				return err
			}
			for _, c := range cookies {
				if _, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: base}); err != nil {
					return err
				}
			}
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
		chromedp.Navigate(base+s.path),
		chromedp.WaitVisible(css("footer.site")),
		chromedp.Sleep(300*time.Millisecond), // let scripts (chat) settle
	)
	png := value(tb, chromedp.FullScreenshot(100))
	name := fmt.Sprintf("%s-%d-%s-%s.png", s.name, tb.width, lang, scheme)
	if err := os.WriteFile(filepath.Join(*screenshotDir, name), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// seedScreenshotSite fills a server with realistic content.
func seedScreenshotSite(t *testing.T) *screenshotSite {
	e := newTestEnv(t)
	ctx := context.Background()
	site := &screenshotSite{e: e, users: map[string]*testUser{}}
	people := []struct{ key, email, nick, status string }{
		{"mina", "mina@example.com", "김미나", "오늘도 코딩 중 ☕"},
		{"joon", "joon@example.com", "Joon Park", "Photography club, Saturdays"},
		{"sora", "sora@example.com", "이소라", "스터디 모집 중"},
		{"alex", "alex@example.com", "Alex", "Maintainer of the club server"},
	}
	for i, p := range people {
		u := e.register(p.email)
		site.users[p.key] = u
		nick, status := p.nick, p.status
		if _, err := e.store.UpdateProfile(ctx, u.ID, store.ProfileUpdate{Nickname: &nick, Status: &status}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			e.upload(u.Access, nil, "me.png", pngBytes(t, testImage(160, 160, true))).wantStatus(http.StatusOK)
		}
	}
	e.makeAdmin(site.users["alex"])
	news, err := e.store.CreateCategory(ctx, "공지")
	if err != nil {
		t.Fatal(err)
	}
	study, err := e.store.CreateCategory(ctx, "Study group")
	if err != nil {
		t.Fatal(err)
	}
	posts := []struct {
		who, title, content string
		tags                []string
		cat                 int64
	}{
		{"alex", "Welcome to the club server", "This is **maru**, our own community server.\n\n- Post on the board\n- Chat in rooms\n- Add friends\n\nRead the [API reference](/api/docs) if you write a client.", []string{"notice", "maru"}, news.ID},
		{"mina", "이번 주 스터디 일정 안내", "이번 주 토요일 오후 2시에 도서관 3층에서 모입니다.\n\n준비물: 노트북, 지난주 과제", []string{"스터디", "일정"}, study.ID},
		{"joon", "Photo walk along the river", "We met at 7 am for the light. Next time: the market at dawn.", []string{"photo", "weekend"}, 0},
		{"sora", "질문: 라즈베리 파이에 설치하려면?", "`./app` 하나만 복사하면 된다고 들었는데 맞나요?\n\n```\nscp app pi@raspberrypi.local:\n```", []string{"질문", "raspberrypi"}, 0},
		{"mina", "A very long title that goes on and on to see how the board wraps words on a narrow phone screen", "Short body.", []string{"test"}, 0},
	}
	for _, p := range posts {
		np, err := e.store.CreatePost(ctx, store.NewPost{AuthorID: site.users[p.who].ID, Title: p.title, Content: p.content, Tags: p.tags, CategoryID: p.cat})
		if err != nil {
			t.Fatal(err)
		}
		if site.post == 0 {
			site.post = np.ID
		}
	}
	for _, pair := range [][2]string{{"mina", "joon"}, {"joon", "mina"}, {"mina", "sora"}, {"alex", "mina"}} {
		if _, err := e.store.AddFriend(ctx, site.users[pair[0]].ID, site.users[pair[1]].Email); err != nil {
			t.Fatal(err)
		}
	}
	room, err := e.store.CreateRoom(ctx, site.users["mina"].ID, "스터디 라운지")
	if err != nil {
		t.Fatal(err)
	}
	site.room = room.ID
	if _, err := e.store.CreateRoom(ctx, site.users["joon"].ID, "Photo club"); err != nil {
		t.Fatal(err)
	}
	lines := []struct{ who, text string }{
		{"mina", "안녕하세요! 오늘 스터디 몇 시에 시작해요?"},
		{"sora", "2시요. 조금 늦을 수도 있어요 🙏"},
		{"joon", "I'll bring the projector."},
		{"mina", "좋아요 👍"},
		{"alex", "Reminder: the server will restart at midnight for an upgrade.\nIt takes about a minute."},
	}
	for i := range 40 {
		l := lines[i%len(lines)]
		m, err := e.store.AddMessage(ctx, store.NewMessage{RoomID: room.ID, UserID: site.users[l.who].ID, Body: l.text})
		if err != nil {
			t.Fatal(err)
		}
		site.message = m.ID
	}
	// What an admin has been doing: invites made, one spent and one
	// revoked, a spammer disabled, a room and a post removed.
	alex, _ := e.store.UserByID(ctx, site.users["alex"].ID)
	for _, inv := range []struct{ uses, days int }{{1, 7}, {20, 0}, {1, 7}, {5, 30}} {
		if _, err := e.store.CreateInvite(ctx, alex.ID, inv.uses, time.Duration(inv.days)*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	invs, _ := e.store.Invites(ctx)
	if _, err := e.store.RevokeInvite(ctx, invs[1].ID); err != nil {
		t.Fatal(err)
	}
	spammer := e.register("cheap-watches@spam.example")
	spam, err := e.store.CreateRoom(ctx, spammer.ID, "FREE WATCHES")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.DeleteRoom(ctx, alex, spam.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SetDisabled(ctx, alex, spammer.ID, true); err != nil {
		t.Fatal(err)
	}
	return site
}
