/*
 * sw.js: hearth's service worker (issue 19). The app's files are cached at
 * install and kept fresh from the network while online; offline they come
 * from the cache, and models from "hearth-models", which hearth-worker.js
 * fills with the models it downloaded. So after one visit the page, the
 * engine and the model load with no network at all.
 */
const APP_CACHE = "hearth-app-v1";
const MODEL_CACHE = "hearth-models";
const APP = ["./", "index.html", "hearth.js", "hearth-worker.js", "hearth-wasm.js",
             "hearth-wasm.wasm", "hearth-wasm-mt.js", "hearth-wasm-mt.wasm",
             "hearth-wasm-mt.worker.js"];
// the relaxed-SIMD modules, which a build without a clang >= 16 lacks
const APP_RELAXED = ["hearth-wasm-relaxed.js", "hearth-wasm-relaxed.wasm",
                     "hearth-wasm-relaxed-mt.js", "hearth-wasm-relaxed-mt.wasm",
                     "hearth-wasm-relaxed-mt.worker.js"];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(APP_CACHE)
    .then((c) => c.addAll(APP).then(() => Promise.all(APP_RELAXED.map((f) => c.add(f).catch(() => {})))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(self.clients.claim());
});

// The app's files: the network first (a rebuilt app is seen at once), the
// cache when offline. Models (.gguf, large, immutable by name): the cache
// first.
self.addEventListener("fetch", (ev) => {
  const req = ev.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  const cached = () => caches.match(req, {ignoreSearch: url.pathname.endsWith("/")});
  if (url.pathname.endsWith(".gguf")) {
    ev.respondWith(cached().then((hit) => hit || fetch(req)));
    return;
  }
  ev.respondWith((async () => {
    try {
      const resp = await fetch(req);
      if (resp.ok) {
        const c = await caches.open(APP_CACHE);
        await c.put(req, resp.clone());
      }
      return resp;
    } catch (e) {
      const hit = await cached();
      if (hit) return hit;
      throw e;
    }
  })());
});
