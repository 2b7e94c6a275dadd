// maru's pages work without this file. It only adds what a script can:
// relative times that stay current and show the exact local time on hover,
// links ready to copy, and a preview of a picture before it is uploaded.
"use strict";
(function () {
  var lang = document.documentElement.lang === "ko" ? "ko" : "en";
  var words = {
    en: { now: "just now", m: " min ago", h: " h ago", d: " days ago" },
    ko: { now: "방금 전", m: "분 전", h: "시간 전", d: "일 전" }
  }[lang];

  function relative(date) {
    var s = (Date.now() - date.getTime()) / 1000;
    if (s < 60) return words.now;
    if (s < 3600) return Math.floor(s / 60) + words.m;
    if (s < 86400) return Math.floor(s / 3600) + words.h;
    if (s < 30 * 86400) return Math.floor(s / 86400) + words.d;
    return date.toLocaleDateString(lang);
  }

  // refreshTimes updates every <time datetime> below root; the chat calls
  // it for the times of messages it adds.
  function refreshTimes(root) {
    var times = (root || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var t = times[i], d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) continue;
      t.textContent = relative(d);
      t.title = d.toLocaleString(lang);
    }
  }
  window.maruTimes = refreshTimes;
  refreshTimes();
  setInterval(refreshTimes, 30000);

  // A read-only link to pass on (an invite, a reset link) is selected
  // whole when it gets the focus, ready to copy.
  var copies = document.querySelectorAll("input.copy[readonly]");
  for (var c = 0; c < copies.length; c++) {
    copies[c].addEventListener("focus", function (e) { e.target.select(); });
  }

  // A picture input with data-preview shows the chosen file in the <img>
  // it names, before anything is sent.
  var inputs = document.querySelectorAll("input[type=file][data-preview]");
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("change", function (e) {
      var img = document.getElementById(e.target.getAttribute("data-preview"));
      var f = e.target.files && e.target.files[0];
      if (!img || !f) return;
      if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
      img.dataset.url = URL.createObjectURL(f);
      img.src = img.dataset.url;
      img.hidden = false;
    });
  }
})();
