/*
 * hearth-worker.js: hearth's engine in a Web Worker (issue 19). A classic
 * worker: new Worker("hearth-worker.js"). It loads hearth-wasm.js (the
 * engine, tokenizer and chat templates of libhearth compiled to WebAssembly:
 * web/hearth_wasm.c) and speaks this protocol with the page:
 *
 *   page -> worker                         worker -> page
 *   INIT {config: {modelUrl, workerId,     PROGRESS {phase: "download" | "verify" | "load",
 *         threads, contextSize, sha256}}             loaded, total}   (bytes; load: 0/1, 1/1)
 *                                          READY {workerId, model, template, kernels, fromCache,
 *                                                 loadMs, bytes}
 *   GENERATE {id, prompt | messages,       TOKEN {id, text, token}   one per generated token
 *             maxTokens, temperature,      RESULT {id, response, tokens, finish,
 *             topP, seed, raw}                     usage: {prompt_tokens, completion_tokens,
 *                                                          total_tokens, cached_tokens},
 *                                                  timings: {prompt_ms, gen_ms, prompt_tps, gen_tps}}
 *   CANCEL {id}                            ERROR {id?, error: {code, message}, partial?}
 *   EMBED {id, text}                       RESULT {id, embedding}   (n_embd floats, L2-normalized)
 *
 * Error codes: BAD_URL (not a URL), NETWORK (fetch failed), HTTP (status not
 * 2xx), NOT_GGUF (no GGUF magic), CHECKSUM (sha256 differs), NOMEM,
 * BAD_MODEL (the engine refused the file), NOT_READY (GENERATE before
 * READY), BAD_REQUEST, CANCELLED (partial: the text so far), ENGINE. After
 * an ERROR the worker keeps working: a failed INIT leaves the previous model
 * (if any) loaded; INIT again to load another.
 *
 * Threads: with config.threads > 1 in a cross-origin isolated page (hearth
 * serve --web sends COOP/COEP) the worker loads hearth-wasm-mt.js, whose
 * pthreads (up to 4) split each matrix's rows; otherwise hearth-wasm.js, one
 * thread. READY.threads says which.
 *
 * The KV cache keeps the last generation's tokens: a prompt that starts
 * with them (a chat's next turn, which re-sends the history) is evaluated
 * from where they end; usage.cached_tokens says how many were found.
 *
 * Generation runs one token per call into the engine and returns to the
 * event loop between tokens, so TOKENs stream and a CANCEL is seen at the
 * next token. GENERATEs are run one at a time, in order.
 *
 * Models are read from the Cache API ("hearth-models") when there, else
 * fetched with progress and cached; the bytes go into the module's file
 * system chunk by chunk (never one ArrayBuffer of the whole file), the
 * engine reads the file and the copy is dropped.
 */
"use strict";

const MODEL_CACHE = "hearth-models";
const MODEL_PATH = "/model.gguf";
let modulePromise = null;   // the wasm module, instantiated once
let M = null;
let session = 0;            // hw_session* of the loaded model, 0 if none
let ready = null;           // READY of the loaded model
let queue = Promise.resolve();
let current = null;         // {id, cancelled} of the running generation
const pendingCancel = new Set();

class HearthError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

function post(type, body) { self.postMessage(Object.assign({type}, body)); }
function postError(id, e) {
  const error = {code: e.code || "ENGINE", message: String(e.message || e)};
  const msg = {error};
  if (id !== undefined) msg.id = id;
  if (e.partial !== undefined) msg.partial = e.partial;
  post("ERROR", msg);
}

const MAX_THREADS = 4; // the threaded module's pthread pool (web/CMakeLists.txt)
let threaded = false;   // the module loaded is hearth-wasm-mt

/* The threaded module where it can run (threads > 1 asked, the page
 * cross-origin isolated: SharedArrayBuffer), else the one-thread module.
 * The first INIT decides for the worker's lifetime. */
function loadModule(threads) {
  if (!modulePromise) {
    const opts = {print: () => {}, printErr: () => {}};
    threaded = threads > 1 && self.crossOriginIsolated && typeof SharedArrayBuffer === "function";
    if (threaded) {
      const url = new URL("hearth-wasm-mt.js", self.location.href).href;
      importScripts(url);
      modulePromise = createHearthModuleMT({...opts, mainScriptUrlOrBlob: url});
    } else {
      importScripts("hearth-wasm.js");
      modulePromise = createHearthModule(opts);
    }
  }
  return modulePromise;
}

function cstr(s) {
  const n = M.lengthBytesUTF8(s) + 1;
  const p = M._malloc(n);
  if (!p) throw new HearthError("NOMEM", "out of memory");
  M.stringToUTF8(s, p, n);
  return p;
}

const CODES = {1: "NOMEM", 2: "BAD_MODEL", 3: "BAD_MODEL", 4: "BAD_MODEL", 8: "NOMEM"};
// hearth_status: 1 NOMEM, 2 IO, 3 FORMAT, 4 UNSUPPORTED, 5 ARG, 6 STATE, 7 CANCELLED, 8 LIMIT

/* Streams the model at url into the file system at MODEL_PATH. */
async function fetchModel(url, onProgress) {
  let u;
  try { u = new URL(url, self.location.href); } catch (e) {
    throw new HearthError("BAD_URL", `not a URL: ${url}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new HearthError("BAD_URL", `not an http(s) URL: ${url}`);
  let cache = null;
  try { cache = await caches.open(MODEL_CACHE); } catch (e) { cache = null; }
  let resp = cache ? await cache.match(u.href) : undefined;
  const fromCache = !!resp;
  if (!resp) {
    try { resp = await fetch(u.href); } catch (e) {
      throw new HearthError("NETWORK", `cannot fetch ${u.href}: ${e.message}`);
    }
    if (!resp.ok) throw new HearthError("HTTP", `${u.href}: HTTP ${resp.status}`);
  }
  // the length on the wire is the file's only without a content encoding
  const total = resp.headers.get("content-encoding") ? 0 :
    Number(resp.headers.get("content-length")) || 0;
  // the cache's copy is written from a tee of the same stream
  let cacheDone = Promise.resolve();
  if (cache && !fromCache) cacheDone = cache.put(u.href, resp.clone()).catch(() => {});
  const reader = resp.body.getReader();
  try { M.FS.unlink(MODEL_PATH); } catch (e) { /* not there */ }
  const stream = M.FS.open(MODEL_PATH, "w");
  // the file's storage in one allocation when the length is known (MEMFS
  // would otherwise grow it by doubling, copying each time)
  if (total) M.FS.ftruncate(stream.fd, total);
  let loaded = 0, head = new Uint8Array(0), lastPost = 0;
  try {
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      if (head.length < 4) {
        const h = new Uint8Array(Math.min(4, head.length + value.length));
        h.set(head.subarray(0, Math.min(head.length, 4)));
        h.set(value.subarray(0, h.length - head.length), head.length);
        head = h;
        if (head.length >= 4 && String.fromCharCode(...head) !== "GGUF") {
          reader.cancel().catch(() => {});
          throw new HearthError("NOT_GGUF", `${u.href} is not a GGUF file`);
        }
      }
      if (total && loaded + value.length > total)
        throw new HearthError("NETWORK", `${u.href}: more bytes than its Content-Length`);
      M.FS.write(stream, value, 0, value.length, loaded);
      loaded += value.length;
      if (loaded - lastPost >= (1 << 20) || loaded === total) {
        onProgress("download", loaded, total);
        lastPost = loaded;
      }
    }
  } catch (e) {
    M.FS.close(stream);
    try { M.FS.unlink(MODEL_PATH); } catch (e2) { /* gone */ }
    if (cache && !fromCache) { await cacheDone; await cache.delete(u.href); }
    if (e instanceof HearthError) throw e;
    throw new HearthError(e.name === "RangeError" ? "NOMEM" : "NETWORK", `${u.href}: ${e.message}`);
  }
  M.FS.close(stream);
  if (total && loaded !== total) {
    M.FS.unlink(MODEL_PATH);
    if (cache && !fromCache) { await cacheDone; await cache.delete(u.href); }
    throw new HearthError("NETWORK", `${u.href}: ${loaded} of ${total} bytes`);
  }
  if (loaded < 4) {
    M.FS.unlink(MODEL_PATH);
    if (cache && !fromCache) { await cacheDone; await cache.delete(u.href); }
    throw new HearthError("NOT_GGUF", `${u.href} is not a GGUF file`);
  }
  if (lastPost !== loaded) onProgress("download", loaded, total || loaded);
  await cacheDone;
  return {href: u.href, bytes: loaded, fromCache, cache};
}

async function sha256Hex(path) {
  // MEMFS keeps the file as one typed array: digest a view of it, no copy
  const node = M.FS.lookupPath(path).node;
  const view = node.contents.subarray(0, node.usedBytes);
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", view));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function init(config) {
  const t0 = performance.now();
  if (!config || typeof config.modelUrl !== "string")
    throw new HearthError("BAD_REQUEST", "INIT needs config.modelUrl");
  await loadModule(config.threads | 0).then((m) => { M = m; });
  const progress = (phase, loaded, total) => post("PROGRESS", {phase, loaded, total});
  const f = await fetchModel(config.modelUrl, progress);
  if (config.sha256) {
    progress("verify", 0, f.bytes);
    const got = await sha256Hex(MODEL_PATH);
    if (got !== String(config.sha256).toLowerCase()) {
      M.FS.unlink(MODEL_PATH);
      if (f.cache) await f.cache.delete(f.href);
      throw new HearthError("CHECKSUM", `${f.href}: sha256 ${got}, expected ${config.sha256}`);
    }
    progress("verify", f.bytes, f.bytes);
  }
  progress("load", 0, 1);
  const p = cstr(MODEL_PATH), codep = M._malloc(4), msgp = M._malloc(512);
  // threads only where the module has them (loadModule); one otherwise
  const threads = threaded ? Math.min(MAX_THREADS, Math.max(1, config.threads | 0)) : 1;
  const s = M._hw_open(p, config.contextSize | 0, threads, codep, msgp, 512);
  const code = M.HEAP32[codep >> 2], msg = M.UTF8ToString(msgp);
  M._free(p); M._free(codep); M._free(msgp);
  try { M.FS.unlink(MODEL_PATH); } catch (e) { /* gone */ }
  if (!s) {
    if (f.cache && !f.fromCache) await f.cache.delete(f.href);
    throw new HearthError(CODES[code] || "ENGINE", msg);
  }
  if (session) M._hw_close(session);
  session = s;
  progress("load", 1, 1);
  ready = {
    workerId: config.workerId, model: M.UTF8ToString(M._hw_model_name(s)),
    template: M.UTF8ToString(M._hw_template_name(s)), kernels: M.UTF8ToString(M._hw_kernels()),
    fromCache: f.fromCache, bytes: f.bytes, threads, loadMs: performance.now() - t0,
  };
  post("READY", ready);
}

// Back to the event loop between tokens (so CANCEL is seen) through a
// MessageChannel: setTimeout(0) chains are clamped to 4 ms each.
const tick = new MessageChannel();
const ticks = [];
tick.port1.onmessage = () => ticks.shift()();
const yieldNow = () => new Promise((r) => { ticks.push(r); tick.port2.postMessage(0); });

async function generate(msg) {
  const id = msg.id;
  if (!session) throw new HearthError("NOT_READY", "no model loaded: INIT first");
  const maxTokens = msg.maxTokens === undefined ? 256 : msg.maxTokens | 0;
  const temp = msg.temperature === undefined ? 0.8 : Number(msg.temperature);
  const topP = msg.topP === undefined ? 0.95 : Number(msg.topP);
  const seed = msg.seed === undefined ? -1 : Number(msg.seed);
  const free = [];
  let rc;
  try {
    if (Array.isArray(msg.messages)) {
      const n = msg.messages.length;
      const roles = M._malloc(4 * Math.max(n, 1)), contents = M._malloc(4 * Math.max(n, 1));
      free.push(roles, contents);
      msg.messages.forEach((m, i) => {
        const r = cstr(String(m.role)), c = cstr(String(m.content));
        free.push(r, c);
        M.HEAP32[(roles >> 2) + i] = r;
        M.HEAP32[(contents >> 2) + i] = c;
      });
      rc = M._hw_begin_chat(session, n, roles, contents, maxTokens, temp, topP, seed);
    } else if (typeof msg.prompt === "string") {
      if (msg.raw) {
        const p = cstr(msg.prompt);
        free.push(p);
        rc = M._hw_begin_raw(session, p, maxTokens, temp, topP, seed);
      } else {
        const r = cstr("user"), c = cstr(msg.prompt), roles = M._malloc(4), contents = M._malloc(4);
        free.push(r, c, roles, contents);
        M.HEAP32[roles >> 2] = r;
        M.HEAP32[contents >> 2] = c;
        rc = M._hw_begin_chat(session, 1, roles, contents, maxTokens, temp, topP, seed);
      }
    } else {
      throw new HearthError("BAD_REQUEST", "GENERATE needs prompt (a string) or messages");
    }
  } finally {
    free.forEach((p) => M._free(p));
  }
  if (rc) throw new HearthError(rc === 1 ? "NOMEM" : "ENGINE", M.UTF8ToString(M._hw_error(session)));
  current = {id, cancelled: pendingCancel.delete(id)};
  let response = "";
  const tokens = [];
  try {
    for (;;) {
      if (current.cancelled) M._hw_cancel(session);
      const t = M._hw_step(session);
      if (t === -2) throw new HearthError("ENGINE", M.UTF8ToString(M._hw_error(session)));
      const text = M.UTF8ToString(M._hw_text(session));
      response += text;
      if (t >= 0) {
        tokens.push(t);
        post("TOKEN", {id, text, token: t});
      } else {
        if (text) post("TOKEN", {id, text, token: -1});
        break;
      }
      await yieldNow(); // lets CANCEL in
    }
  } finally {
    current = null;
  }
  const finish = M.UTF8ToString(M._hw_finish(session));
  if (finish === "cancelled") {
    const e = new HearthError("CANCELLED", `generation ${id} was cancelled`);
    e.partial = response;
    throw e;
  }
  const nPrompt = M._hw_n_prompt(session), nGen = M._hw_n_gen(session);
  const promptMs = M._hw_prompt_ms(session), genMs = M._hw_gen_ms(session);
  const steps = Math.max(0, tokens.length - 1); // steps that ran the model
  post("RESULT", {
    id, response, tokens, finish,
    usage: {prompt_tokens: nPrompt, completion_tokens: nGen, total_tokens: nPrompt + nGen,
            cached_tokens: M._hw_n_reused(session)},
    timings: {
      prompt_ms: promptMs, gen_ms: genMs,
      prompt_tps: promptMs > 0 ? nPrompt / (promptMs / 1e3) : 0,
      gen_tps: genMs > 0 ? steps / (genMs / 1e3) : 0,
    },
  });
}

async function embed(msg) {
  if (!session) throw new HearthError("NOT_READY", "no model loaded: INIT first");
  if (typeof msg.text !== "string") throw new HearthError("BAD_REQUEST", "EMBED needs text");
  const n = M._hw_n_embd(session), out = M._malloc(4 * n), p = cstr(msg.text);
  try {
    const rc = M._hw_embed(session, p, out);
    if (rc) throw new HearthError(rc === 1 ? "NOMEM" : "ENGINE", M.UTF8ToString(M._hw_error(session)));
    const embedding = Array.from(new Float32Array(M.HEAPU8.buffer, out, n));
    post("RESULT", {id: msg.id, embedding});
  } finally {
    M._free(out);
    M._free(p);
  }
}

self.onmessage = (ev) => {
  const msg = ev.data || {};
  if (msg.type === "CANCEL") {
    if (current && current.id === msg.id) current.cancelled = true;
    else pendingCancel.add(msg.id);
    return;
  }
  queue = queue.then(async () => {
    try {
      if (msg.type === "INIT") await init(msg.config);
      else if (msg.type === "GENERATE") await generate(msg);
      else if (msg.type === "EMBED") await embed(msg);
      else throw new HearthError("BAD_REQUEST", `unknown message type ${msg.type}`);
    } catch (e) {
      postError(msg.type === "GENERATE" || msg.type === "EMBED" ? msg.id : undefined, e);
    }
  });
};
