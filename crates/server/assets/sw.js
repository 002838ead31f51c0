// Service worker for genre: caches the app shell so the page opens offline.
// /api/* always goes to the network and is never stored (results are per upload).
"use strict";

const CACHE = "genre-shell-v1";
const SHELL = ["/", "/style.css", "/app.js", "/manifest.webmanifest", "/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((c) => c.addAll(SHELL))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  // Drop caches from older versions of the shell.
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;

  if (url.pathname.startsWith("/api/")) {
    // Network only: if the server is down, answer with the same JSON error shape
    // the page already knows how to show, instead of a failed fetch.
    if (req.method !== "GET") return; // uploads and answers: let the browser handle them
    event.respondWith(
      fetch(req).catch(() => new Response(
        JSON.stringify({ error: "The genre server cannot be reached." }),
        { status: 503, headers: { "Content-Type": "application/json" } }
      ))
    );
    return;
  }

  if (req.method !== "GET") return;
  // App shell: network first so a new server version is picked up at once,
  // refreshing the cache; fall back to the cached copy when offline.
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok && SHELL.includes(url.pathname)) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      })
      .catch(() => caches.match(req).then((hit) => hit || caches.match("/")).then((hit) => hit || Response.error()))
  );
});
