/*
 * sw.js: hearth's service worker (issue 19). The app's files are cached at
 * install; every same-origin GET is answered from the caches first (the app
 * cache, then "hearth-models", which hearth-worker.js fills with the models
 * it downloaded), else from the network (and kept). So after one visit the
 * page, the engine and the model load with no network at all.
 */
const APP_CACHE = "hearth-app-v1";
const MODEL_CACHE = "hearth-models";
const APP = ["./", "index.html", "hearth.js", "hearth-worker.js", "hearth-wasm.js",
             "hearth-wasm.wasm", "hearth-wasm-mt.js", "hearth-wasm-mt.wasm",
             "hearth-wasm-mt.worker.js"];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(APP_CACHE).then((c) => c.addAll(APP)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (ev) => {
  const req = ev.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  ev.respondWith((async () => {
    const hit = await caches.match(req, {ignoreSearch: new URL(req.url).pathname.endsWith("/")});
    if (hit) return hit;
    const resp = await fetch(req);
    const path = new URL(req.url).pathname;
    if (resp.ok && !path.endsWith(".gguf")) {
      const c = await caches.open(APP_CACHE);
      c.put(req, resp.clone());
    }
    return resp;
  })());
});
