// The live part of a chat room page. Without it the page is a readable
// history with a form that posts; with it, messages come over the room's
// socket, older ones load on scrolling up, and a dropped connection comes
// back by itself and fetches what it missed. User text goes in as text only.
"use strict";
(function () {
  var root = document.getElementById("chat");
  if (!root || !window.WebSocket || !window.fetch) return;
  var d = root.dataset;
  var log = document.getElementById("chat-log");
  var list = document.getElementById("chat-msgs");
  var top = document.getElementById("chat-top");
  var statusEl = document.getElementById("chat-status");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var errorEl = document.getElementById("chat-error");
  var jump = document.getElementById("chat-jump");
  var people = document.getElementById("chat-people");
  var nobody = document.getElementById("chat-nobody");

  // CAP bounds the messages kept in the page. The page is a window on the
  // history: loading older ones at the top drops the newest beyond CAP
  // (the window is then "detached" and fetches them again with after= when
  // the reader scrolls back down); new ones at the bottom drop the oldest.
  var CAP = 500, PAGE = 50, MAX_WAIT = 30000;

  var byId = {};        // message id -> its element
  var gone = {};        // ids of messages an admin deleted: never shown again
  var older = d.older === "true";
  var live = true;      // the window reaches the newest message
  var sock = null, ready = false, attempt = 0, timer = 0, stopped = false;
  var pending = null;   // frames queued while a catch-up runs
  var fetching = false, loadingOlder = false;
  var ownJoin = false;  // the join frame that follows our own presence
  var sent = null;      // the text sent and not yet seen come back

  function t(key, arg) {
    var s = d["t" + key.charAt(0).toUpperCase() + key.slice(1)] || "";
    return arg === undefined ? s : s.replace("{}", arg);
  }
  function setStatus(text) { statusEl.textContent = text; }
  function showError(text) {
    errorEl.textContent = "";
    if (!text) return;
    var p = document.createElement("p");
    p.className = "field-error";
    p.textContent = text;
    errorEl.appendChild(p);
  }

  // --- the window of messages -----------------------------------------
  var msgs = list.getElementsByClassName("msg");
  for (var i = 0; i < msgs.length; i++) byId[msgs[i].dataset.id] = msgs[i];
  function firstId() { return msgs.length ? +msgs[0].dataset.id : 0; }
  function lastId() { return msgs.length ? +msgs[msgs.length - 1].dataset.id : 0; }
  function atBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 40; }

  function build(m) {
    var li = document.createElement("li");
    li.className = "msg";
    li.id = "m-" + m.id;
    li.dataset.id = m.id;
    var av;
    if (m.profile_picture_url) {
      av = document.createElement("img");
      av.src = m.profile_picture_url;
      av.alt = "";
      av.width = av.height = 32;
    } else {
      av = document.createElement("span");
      av.className = "blank";
      av.setAttribute("aria-hidden", "true");
      av.textContent = (Array.from(m.nickname || "?")[0] || "?").toUpperCase();
    }
    av.classList.add("avatar");
    var body = document.createElement("div");
    body.className = "body";
    var meta = document.createElement("div");
    meta.className = "meta";
    var nick = document.createElement("strong");
    nick.className = "nick";
    nick.textContent = m.nickname;
    var time = document.createElement("time");
    time.setAttribute("datetime", m.created_at);
    meta.append(nick, time);
    if (d.admin) {
      // Admins delete a message through its confirmation page.
      var del = document.createElement("a");
      del.className = "msg-del";
      del.href = "/admin/messages/" + m.id + "/delete";
      del.textContent = t("delete");
      del.setAttribute("aria-label", t("deletelabel"));
      meta.appendChild(del);
    }
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = m.message;
    body.append(meta, text);
    li.append(av, body);
    if (window.maruTimes) window.maruTimes(li);
    return li;
  }

  // add puts messages into the window in id order, each once. One older
  // than the window while more history exists, or newer than a detached
  // window, is left out: it is fetched when the reader gets there.
  function add(ms) {
    var stick = atBottom(), added = false;
    ms.sort(function (a, b) { return a.id - b.id; });
    for (var i = 0; i < ms.length; i++) {
      var m = ms[i];
      if (byId[m.id] || gone[m.id]) continue;
      if (m.id < firstId() && older) continue;
      if (m.id > lastId() && !live && msgs.length) continue;
      var el = build(m), after = null;
      for (var j = msgs.length - 1; j >= 0; j--) {
        if (+msgs[j].dataset.id < m.id) { after = msgs[j]; break; }
      }
      if (after) after.after(el); else list.prepend(el);
      byId[m.id] = el;
      added = true;
    }
    if (!added) return;
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    if (stick) {
      trim(true);
      log.scrollTop = log.scrollHeight;
    } else {
      trim(false);
      jump.hidden = false;
    }
  }

  // trim drops what is beyond CAP on the side the reader is not looking at.
  function trim(fromTop) {
    var n = msgs.length - CAP;
    if (n <= 0) return;
    if (fromTop) {
      var h = log.scrollHeight;
      while (n-- > 0) drop(msgs[0], true);
      older = true;
      log.scrollTop -= h - log.scrollHeight;
      top.textContent = t("older");
    } else {
      while (n-- > 0) drop(msgs[msgs.length - 1], false);
      live = false;
      jump.hidden = false;
    }
  }
  function drop(el, andBefore) {
    // Notices between messages go with the message next to them.
    var sib = andBefore ? el.previousElementSibling : el.nextElementSibling;
    while (sib && !sib.dataset.id) {
      var s = sib;
      sib = andBefore ? sib.previousElementSibling : sib.nextElementSibling;
      s.remove();
    }
    delete byId[el.dataset.id];
    el.remove();
  }

  function notice(text) {
    if (!live) return;
    var stick = atBottom();
    var li = document.createElement("li");
    li.className = "sys";
    li.textContent = text;
    list.appendChild(li);
    // Notices count too: keep at most as many as CAP.
    var sys = list.getElementsByClassName("sys");
    if (sys.length > CAP) sys[0].remove();
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function history(query) {
    return fetch(d.history + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) { stop(t("loggedout")); throw res; }
        if (res.status === 404) { stop(t("gone")); throw res; }
        if (!res.ok) throw res;
        return res.json();
      });
  }

  // Scrolling to the top loads the page before the oldest message.
  function loadOlder() {
    if (!older || loadingOlder || !msgs.length) return;
    loadingOlder = true;
    top.textContent = t("loading");
    var first = firstId();
    history("?before=" + first + "&limit=" + PAGE).then(function (ms) {
      loadingOlder = false;
      older = ms.length === PAGE;
      top.textContent = t(older ? "older" : "start");
      var h = log.scrollHeight, y = log.scrollTop, frag = document.createDocumentFragment();
      ms.forEach(function (m) {
        if (byId[m.id] || gone[m.id] || m.id >= first) return;
        byId[m.id] = build(m);
        frag.appendChild(byId[m.id]);
      });
      list.prepend(frag);
      log.scrollTop = y + log.scrollHeight - h;
      trim(false);
    }, function () { loadingOlder = false; top.textContent = t("older"); });
  }

  // catchUp fills the window up to the newest message with after=, a page
  // at a time. Frames that come meanwhile wait in pending, so a message is
  // either fetched or queued: none is lost, and add shows each once. A
  // detached window takes one page per call (the reader scrolls on); a
  // reconnect runs until it has caught up, or until the window detaches
  // because the reader is scrolled back.
  var again = false;
  function catchUp(all) {
    if (stopped) return;
    if (fetching) { again = again || all; return; }
    fetching = true;
    pending = [];
    var from = lastId();
    if (all) setStatus(t("catchingup"));
    history(from ? "?after=" + from + "&limit=" + PAGE : "?limit=" + PAGE).then(function (ms) {
      fetching = false;
      var wasLive = live;
      if (!from) older = ms.length === PAGE;
      live = true; // the page joins on to the window's end
      add(ms);
      var more = from && ms.length === PAGE;
      if (more || !live) {
        if (more && !wasLive) live = false; // still behind: the next scroll goes on
        pending = null;
        if (live && (all || again)) { again = false; catchUp(true); } else if (ready) setStatus(t("live"));
        return;
      }
      var q = pending;
      pending = null;
      add(q);
      if (again) { again = false; catchUp(true); return; }
      if (ready) setStatus(t("live"));
    }, function () { fetching = false; pending = null; again = false; });
  }

  log.addEventListener("scroll", function () {
    if (log.scrollTop < 80) loadOlder();
    if (atBottom()) {
      if (!live) catchUp(false); else jump.hidden = true;
    }
  });
  jump.addEventListener("click", function () {
    if (live) { log.scrollTop = log.scrollHeight; jump.hidden = true; return; }
    // Far behind: start again from the newest page.
    list.textContent = "";
    byId = {};
    live = true;
    older = false;
    top.textContent = "";
    jump.hidden = true;
    catchUp(true);
  });

  // --- who is here ----------------------------------------------------
  function setPeople(names) {
    people.textContent = "";
    names.forEach(addPerson);
    nobody.hidden = names.length > 0;
  }
  function addPerson(name) {
    var li = document.createElement("li");
    li.textContent = name;
    people.appendChild(li);
    nobody.hidden = true;
  }
  function removePerson(name) {
    var items = people.children;
    for (var i = 0; i < items.length; i++) {
      if (items[i].textContent === name) { items[i].remove(); break; }
    }
    nobody.hidden = items.length > 0;
  }

  // --- the socket -----------------------------------------------------
  function connect() {
    if (stopped) return;
    clearTimeout(timer);
    setStatus(t("connecting"));
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + d.ws;
    var ws = new WebSocket(url);
    sock = ws;
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.error_type) {
        showError(t(f.error_type) || f.message);
        sent = null;
        return;
      }
      switch (f.type) {
        case "chat.presence":
          // The first frame after the server has put this socket in the
          // room: from here every message reaches it, so what came before
          // is fetched now.
          ready = true;
          attempt = 0;
          ownJoin = true;
          setPeople(f.users.map(function (u) { return u.username; }));
          if (live) catchUp(true); else setStatus(t("live"));
          break;
        case "chat.message":
          if (sent !== null && f.sender === d.meEmail && f.message === sent) {
            if (input.value.replace(/\r\n/g, "\n").trim() === sent) input.value = "";
            sent = null;
            showError("");
          }
          if (pending) pending.push(f); else add([f]);
          break;
        case "chat.user.join":
          if (ownJoin && f.username === d.meName) { ownJoin = false; break; }
          addPerson(f.username);
          notice(t("joined", f.username));
          break;
        case "chat.user.leave":
          removePerson(f.username);
          notice(t("left", f.username));
          break;
        case "chat.message.delete":
          // An admin took it away: from this page too, at once.
          gone[f.id] = true;
          if (byId[f.id]) { byId[f.id].remove(); delete byId[f.id]; }
          break;
        case "chat.room.delete":
          stop(t("gone"));
          break;
      }
    };
    ws.onclose = function (ev) {
      if (sock !== ws) return;
      var wasReady = ready;
      sock = null;
      ready = false;
      if (ev.code === 4401) stop(t("loggedout")); // the session ended
      if (ev.code === 4404) stop(t("gone"));      // an admin deleted the room
      if (stopped) return;
      // Refused before it opened: find out whether the session ended or
      // the room went (history answers 401 or 404 and stops the retries).
      if (!wasReady) history("?limit=1").catch(function () {});
      // Exponential backoff with jitter, so that a restarted server is not
      // met by every client at the same instant.
      var wait = Math.min(MAX_WAIT, 1000 * Math.pow(2, attempt++));
      wait = wait / 2 + Math.random() * wait / 2;
      setStatus(t("reconnecting", Math.ceil(wait / 1000)));
      timer = setTimeout(connect, wait);
    };
  }
  function stop(text) {
    stopped = true;
    clearTimeout(timer);
    setStatus(text);
    if (sock) sock.close();
    // Nothing can be sent any more: say so rather than fail on a click.
    form.querySelector("button[type=submit]").disabled = true;
  }
  // Back online or back to the tab: try now rather than at the next turn.
  window.addEventListener("online", function () { if (!sock) connect(); });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !sock) connect();
  });

  // --- sending ----------------------------------------------------------
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.replace(/\r\n/g, "\n").trim();
    if (!text) return;
    showError("");
    input.removeAttribute("aria-invalid");
    if (sock && ready) {
      sent = text;
      sock.send(JSON.stringify({ type: "chat.message", message: text }));
      return;
    }
    // No socket now: the API takes it, and the socket shows it later.
    fetch(d.send, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ type: "chat.message", message: text, room: +d.room })
    }).then(function (res) {
      if (res.ok) {
        if (input.value.replace(/\r\n/g, "\n").trim() === text) input.value = "";
        return;
      }
      showError(t(res.status === 429 ? "rate_limited" : res.status === 400 ? "invalid_request" : "offline"));
    }, function () { showError(t("offline")); });
  });

  log.scrollTop = log.scrollHeight;
  if (!msgs.length) top.textContent = "";
  connect();
})();
