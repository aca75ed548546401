/*
 * hearth-worker.js: hearth's engine in a Web Worker (issue 19). A classic
 * worker: new Worker("hearth-worker.js"). It loads hearth-wasm.js (the
 * engine, tokenizer and chat templates of libhearth compiled to WebAssembly:
 * web/hearth_wasm.c) and speaks this protocol with the page:
 *
 *   page -> worker                         worker -> page
 *   INIT {config: {modelUrl, workerId,     PROGRESS {phase: "download" | "verify" | "load",
 *         threads, contextSize, sha256,              loaded, total}   (bytes; load: 0/1, 1/1)
 *         publicKey, signatureUrl,         READY {workerId, model, template, kernels, fromCache,
 *         relaxedSimd}}                           loadMs, bytes, signature?: {keyId,
 *                                                 trustedComment, prehashed}}
 *   GENERATE {id, prompt | messages,       TOKEN {id, text, token}   one per generated token
 *             maxTokens, temperature,      RESULT {id, response, tokens, finish,
 *             topP, seed, raw}                     usage: {prompt_tokens, completion_tokens,
 *                                                          total_tokens, cached_tokens},
 *                                                  timings: {prompt_ms, gen_ms, prompt_tps, gen_tps}}
 *   CANCEL {id}                            ERROR {id?, error: {code, message}, partial?}
 *   EMBED {id, text}                       RESULT {id, embedding}   (n_embd floats, L2-normalized)
 *
 * Error codes: BAD_URL (not a URL), NETWORK (fetch failed), HTTP (status not
 * 2xx), NOT_GGUF (no GGUF magic), CHECKSUM (sha256 differs), the signature's
 * (below: UNSIGNED, BAD_SIGNATURE, UNTRUSTED_KEY, MODIFIED,
 * MALFORMED_SIGNATURE, MALFORMED_KEY, NO_ED25519), NOMEM,
 * BAD_MODEL (the engine refused the file), NOT_READY (GENERATE before
 * READY), BAD_REQUEST, CANCELLED (partial: the text so far), ENGINE. After
 * an ERROR the worker keeps working: a failed INIT leaves the previous model
 * (if any) loaded; INIT again to load another.
 *
 * Signatures (minisign, as `hearth verify`: docs/model-trust.md): with
 * config.publicKey (one minisign public key, or an array of them: the
 * trusted keys; each the base64 key line, "RWQ...", or the whole .pub file)
 * the model must carry a minisign signature by one of them, fetched from
 * config.signatureUrl (default modelUrl + ".minisig") and kept in the model
 * cache beside it. The signature's global signature (over the signature and
 * its trusted comment) is checked before the model is downloaded, the file
 * signature after: over the BLAKE2b-512 of the file for minisign's default
 * "ED" form (hashed by the module, web/hearth_wasm.c, while the bytes
 * arrive), over the file itself for the legacy "Ed" form. Ed25519 is
 * WebCrypto's. Refusals, as the native kinds: UNSIGNED (no signature file:
 * HTTP 404/410), BAD_SIGNATURE (the global signature fails: the signature or
 * its trusted comment was altered), UNTRUSTED_KEY (signed by a key not in
 * config.publicKey), MODIFIED (an authentic signature that does not cover
 * these bytes), MALFORMED_SIGNATURE, MALFORMED_KEY; NO_ED25519 where the
 * browser's WebCrypto has no Ed25519. A refused model is dropped from the
 * cache. Without config.publicKey no signature is looked for.
 *
 * Threads: with config.threads > 1 in a cross-origin isolated page (hearth
 * serve --web sends COOP/COEP) the worker loads hearth-wasm-mt.js, whose
 * pthreads (up to 4) split each matrix's rows; otherwise hearth-wasm.js, one
 * thread. READY.threads says which.
 *
 * Relaxed SIMD: where the browser validates it (Chromium 114 and later), the
 * worker loads hearth-wasm-relaxed.js / hearth-wasm-relaxed-mt.js instead,
 * whose integer kernels run on relaxed_dot (same results, bit for bit) and
 * F32 one on relaxed_madd; config.relaxedSimd: false keeps the SIMD128 modules.
 * READY.kernels says which ("wasm-relaxed", "wasm128"). The first INIT
 * decides both for the worker's lifetime.
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

/* Whether this browser runs relaxed SIMD: a module of one function with
 * i32x4.relaxed_dot_i8x16_i7x16_add_s validates. */
function hasRelaxedSimd() {
  const v128 = [0xfd, 0x0c, ...new Array(16).fill(0)];
  const body = [0x00, ...v128, ...v128, ...v128, 0xfd, 0x93, 0x02, 0xfd, 0x1b, 0x00, 0x0b];
  return WebAssembly.validate(new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,      // magic, version
    1, 5, 1, 0x60, 0, 1, 0x7f,               // type: () -> i32
    3, 2, 1, 0,                              // one function of that type
    10, body.length + 2, 1, body.length, ...body]));
}

/* The module script: the relaxed-SIMD build (hearth-wasm-relaxed*.js: the
 * int8 kernels on relaxed_dot) where the browser runs relaxed SIMD, the
 * build has it and relaxed is not false, else the SIMD128 one. */
function importModule(base, relaxed) {
  if (relaxed !== false && hasRelaxedSimd()) {
    const url = new URL(base.replace("hearth-wasm", "hearth-wasm-relaxed"), self.location.href).href;
    try {
      importScripts(url);
      return url;
    } catch (e) {
      // a build without the relaxed modules (no clang >= 16): the SIMD128 ones
    }
  }
  const url = new URL(base, self.location.href).href;
  importScripts(url);
  return url;
}

/* The threaded module where it can run (threads > 1 asked, the page
 * cross-origin isolated: SharedArrayBuffer), else the one-thread module;
 * each in its relaxed-SIMD build where importModule finds it usable. The
 * first INIT decides for the worker's lifetime. */
function loadModule(threads, relaxed) {
  if (!modulePromise) {
    const opts = {print: () => {}, printErr: () => {}};
    threaded = threads > 1 && self.crossOriginIsolated && typeof SharedArrayBuffer === "function";
    if (threaded) {
      const url = importModule("hearth-wasm-mt.js", relaxed);
      modulePromise = createHearthModuleMT({...opts, mainScriptUrlOrBlob: url});
    } else {
      importModule("hearth-wasm.js", relaxed);
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

/* ---- minisign signatures (see the header) ---------------------------------- */

const UNTRUSTED = "untrusted comment: ", TRUSTED = "trusted comment: ";
const COMMENT_MAX = 8192, LINE_MAX = COMMENT_MAX + 64, SIG_FILE_MAX = 64 << 10;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/* Strict base64 (padding required, nothing else, zero trailing bits, as
 * src/security/base64.c): the bytes, or null. */
function b64decode(s) {
  if (!B64.test(s)) return null;
  const bin = atob(s);
  if (btoa(bin) !== s) return null; // non-zero trailing bits
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/* The lines of a minisign file ("\n" or "\r\n"): the first n, and whether
 * only empty lines follow them. */
function lines(text, n, kind) {
  const all = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (text.endsWith("\n")) all.pop();
  for (const [i, l] of all.entries()) {
    if (l.length > LINE_MAX) throw new HearthError(kind, `line ${i + 1}: too long`);
    if (l.includes("\0")) throw new HearthError(kind, `line ${i + 1}: NUL byte`);
  }
  return {head: all.slice(0, n), restEmpty: all.slice(n).every((l) => l === "")};
}

/* minisign's key id as it prints it: the 8 bytes as a little-endian number
 * in upper-case hex without leading zeros (src/security/minisign.c). */
function keyIdStr(id) {
  let h = "";
  for (let i = 7; i >= 0; i--) h += id[i].toString(16).toUpperCase().padStart(2, "0");
  return h.replace(/^0+(?=.)/, "");
}
const sameId = (a, b) => a.every((x, i) => x === b[i]);

/* A minisign public key: an optional untrusted comment line, then the
 * base64 of "Ed", the 8-byte key id, the 32-byte Ed25519 key. */
function parseKey(text) {
  const K = "MALFORMED_KEY";
  if (typeof text !== "string" || !text.trim()) throw new HearthError(K, "config.publicKey: not a key");
  const t = text.trim(); // a pasted key may come with white space around it
  const {head} = lines(t, 2, K), all = t.split("\n").length;
  const commented = head[0].startsWith(UNTRUSTED), at = commented ? 2 : 1;
  const line = head[at - 1];
  if (line === undefined) throw new HearthError(K, "config.publicKey: no key line after the comment");
  if (all > at) throw new HearthError(K, "config.publicKey: unexpected text after the key line");
  const raw = b64decode(line);
  if (!raw) throw new HearthError(K, `config.publicKey: line ${at}: not base64`);
  if (raw.length !== 42) throw new HearthError(K, `config.publicKey: ${raw.length} bytes, a minisign key has 42`);
  if (raw[0] !== 0x45 || raw[1] !== 0x64) throw new HearthError(K, "config.publicKey: not an Ed25519 (\"Ed\") key");
  return {id: raw.slice(2, 10), pk: raw.slice(10, 42)};
}

/* A .minisig: untrusted comment; base64 of "ED"/"Ed", key id, signature;
 * trusted comment; base64 of the global signature. */
function parseSig(text) {
  const S = "MALFORMED_SIGNATURE";
  const {head, restEmpty} = lines(text, 4, S);
  if (head.length < 4) throw new HearthError(S, `${head.length} lines, a minisign signature has 4`);
  if (!head[0].startsWith(UNTRUSTED)) throw new HearthError(S, `line 1: expected "${UNTRUSTED}..."`);
  const raw = b64decode(head[1]);
  if (!raw) throw new HearthError(S, "line 2: not base64");
  if (raw.length !== 74) throw new HearthError(S, `line 2: ${raw.length} bytes, a signature has 74`);
  if (raw[0] !== 0x45 || (raw[1] !== 0x44 && raw[1] !== 0x64))
    throw new HearthError(S, "line 2: algorithm not \"ED\" or \"Ed\"");
  if (!head[2].startsWith(TRUSTED)) throw new HearthError(S, `line 3: expected "${TRUSTED}..."`);
  const comment = new TextEncoder().encode(head[2].slice(TRUSTED.length));
  if (comment.length > COMMENT_MAX) throw new HearthError(S, `line 3: trusted comment longer than ${COMMENT_MAX} bytes`);
  const global = b64decode(head[3]);
  if (!global) throw new HearthError(S, "line 4: not base64");
  if (global.length !== 64) throw new HearthError(S, `line 4: ${global.length} bytes, a global signature has 64`);
  if (!restEmpty) throw new HearthError(S, "unexpected text after line 4");
  return {prehashed: raw[1] === 0x44, id: raw.slice(2, 10), sig: raw.slice(10, 74), comment,
          trustedComment: head[2].slice(TRUSTED.length), global};
}

async function ed25519Verify(pk, sig, msg) {
  let key;
  if (!self.crypto || !crypto.subtle) // WebCrypto exists only in secure contexts (https, localhost)
    throw new HearthError("NO_ED25519", "no WebCrypto here (not a secure context): signatures cannot be checked");
  try {
    key = await crypto.subtle.importKey("raw", pk, {name: "Ed25519"}, false, ["verify"]);
  } catch (e) {
    if (e.name === "NotSupportedError")
      throw new HearthError("NO_ED25519", `this browser's WebCrypto has no Ed25519: ${e.message}`);
    return false; // a key WebCrypto refuses (not a curve point) verifies nothing
  }
  try { return await crypto.subtle.verify({name: "Ed25519"}, key, sig, msg); } catch (e) { return false; }
}

/* The text of the signature file for the model at modelHref: from the
 * model cache, else fetched (init caches it once the model passed). */
async function fetchSignature(url, modelHref) {
  let cache = null;
  try { cache = await caches.open(MODEL_CACHE); } catch (e) { cache = null; }
  let u;
  // config.signatureUrl is relative to the worker, as config.modelUrl
  try { u = url ? new URL(url, self.location.href) : new URL(modelHref + ".minisig"); } catch (e) {
    throw new HearthError("BAD_URL", `not a URL: ${url}`);
  }
  let resp = cache ? await cache.match(u.href) : undefined;
  const fromCache = !!resp;
  if (!resp) {
    try { resp = await fetch(u.href); } catch (e) {
      throw new HearthError("NETWORK", `cannot fetch ${u.href}: ${e.message}`);
    }
    if (resp.status === 404 || resp.status === 410)
      throw new HearthError("UNSIGNED", `${modelHref}: no signature (${u.href}: HTTP ${resp.status}), and config.publicKey asks for one`);
    if (!resp.ok) throw new HearthError("HTTP", `${u.href}: HTTP ${resp.status}`);
  }
  const buf = await resp.arrayBuffer();
  if (buf.byteLength > SIG_FILE_MAX)
    throw new HearthError("MALFORMED_SIGNATURE", `${u.href}: ${buf.byteLength} bytes, too long for a signature`);
  let text;
  try { text = new TextDecoder("utf-8", {fatal: true}).decode(buf); } catch (e) {
    throw new HearthError("MALFORMED_SIGNATURE", `${u.href}: not UTF-8 text`);
  }
  return {href: u.href, text, cache, fromCache};
}

/* Checks what can be checked before the model's bytes: the keys parse, the
 * signature parses, its key is trusted, its global signature holds.
 * Returns {key, sig, href, text}. */
async function checkSignature(config, modelHref) {
  const keys = (Array.isArray(config.publicKey) ? config.publicKey : [config.publicKey]).map(parseKey);
  const f = await fetchSignature(config.signatureUrl, modelHref);
  let sig;
  try { sig = parseSig(f.text); } catch (e) {
    e.message = `${f.href}: ${e.message}`;
    throw e;
  }
  const key = keys.find((k) => sameId(k.id, sig.id));
  if (!key)
    throw new HearthError("UNTRUSTED_KEY", `${f.href}: signed by key ${keyIdStr(sig.id)}, which config.publicKey does not trust (${keys.map((k) => keyIdStr(k.id)).join(", ")})`);
  const msg = new Uint8Array(64 + sig.comment.length);
  msg.set(sig.sig);
  msg.set(sig.comment, 64);
  if (!await ed25519Verify(key.pk, sig.global, msg))
    throw new HearthError("BAD_SIGNATURE", `${f.href}: the global signature (over the signature and its trusted comment) does not verify under key ${keyIdStr(key.id)}: the signature file was altered`);
  return {key, sig, file: f};
}

/* BLAKE2b-512 in the module, fed from JS arrays through one buffer. */
const HASH_BUF = 1 << 20;
class Blake2b {
  constructor() {
    this.s = M._hw_blake2b_new();
    this.buf = M._malloc(HASH_BUF);
    if (!this.s || !this.buf) {
      this.free();
      throw new HearthError("NOMEM", "out of memory");
    }
  }
  update(bytes) {
    for (let i = 0; i < bytes.length; i += HASH_BUF) {
      const part = bytes.subarray(i, Math.min(bytes.length, i + HASH_BUF));
      M.HEAPU8.set(part, this.buf); // M.HEAPU8 read anew: memory may have grown
      M._hw_blake2b_update(this.s, this.buf, part.length);
    }
  }
  digest() {
    M._hw_blake2b_final(this.s, this.buf);
    this.s = 0;
    const d = M.HEAPU8.slice(this.buf, this.buf + 64);
    this.free();
    return d;
  }
  free() {
    if (this.s) M._free(this.s); // a state never finalized
    if (this.buf) M._free(this.buf);
    this.s = this.buf = 0;
  }
}

/* The model's URL, absolute; BAD_URL if it is none or not http(s). */
function modelUrl(url) {
  let u;
  try { u = new URL(url, self.location.href); } catch (e) {
    throw new HearthError("BAD_URL", `not a URL: ${url}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new HearthError("BAD_URL", `not an http(s) URL: ${url}`);
  return u;
}

/* Streams the model at url into the file system at MODEL_PATH; onBytes (if
 * given) sees every piece as it arrives. */
async function fetchModel(url, onProgress, onBytes) {
  const u = modelUrl(url);
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
      if (onBytes) onBytes(value);
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
  await loadModule(config.threads | 0, config.relaxedSimd).then((m) => { M = m; });
  const progress = (phase, loaded, total) => post("PROGRESS", {phase, loaded, total});
  // a signature asked for: all but the file's own check before downloading
  const signed = config.publicKey !== undefined && config.publicKey !== null ?
    await checkSignature(config, modelUrl(config.modelUrl).href) : null;
  const hasher = signed && signed.sig.prehashed ? new Blake2b() : null;
  let f;
  try {
    f = await fetchModel(config.modelUrl, progress, hasher && ((b) => hasher.update(b)));
  } catch (e) {
    if (hasher) hasher.free();
    throw e;
  }
  if (signed) {
    progress("verify", 0, f.bytes);
    const {sig, key, file} = signed;
    let msg;
    if (hasher) {
      msg = hasher.digest();
    } else { // legacy "Ed": the file itself is signed (a view of MEMFS's array)
      const node = M.FS.lookupPath(MODEL_PATH).node;
      msg = node.contents.subarray(0, node.usedBytes);
    }
    if (!await ed25519Verify(key.pk, sig.sig, msg)) {
      M.FS.unlink(MODEL_PATH);
      if (f.cache) await f.cache.delete(f.href);
      if (file.cache) await file.cache.delete(file.href);
      throw new HearthError("MODIFIED", `${f.href}: the signature ${file.href} (key ${keyIdStr(key.id)}, "${sig.trustedComment}") is authentic but does not cover these bytes: the file changed after it was signed, or the signature is another file's`);
    }
    if (file.cache && !file.fromCache)
      await file.cache.put(file.href, new Response(file.text)).catch(() => {});
    progress("verify", f.bytes, f.bytes);
  }
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
  if (signed)
    ready.signature = {keyId: keyIdStr(signed.key.id), trustedComment: signed.sig.trustedComment,
                       prehashed: signed.sig.prehashed};
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
