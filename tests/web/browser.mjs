// browser.mjs: the checks of test_browser.sh, in Debian's headless chromium
// (playwright-core, launched with /usr/bin/chromium; no browser is
// downloaded). Environment: WEB_URL (the app, served by hearth serve --web),
// PROMPT, NATIVE_DEMO / NATIVE_GEN / NATIVE_GEN8 (the native engine's greedy
// ids for PROMPT on models/hearth-demo.gguf, gen-q4k.gguf and gen-q8.gguf),
// SCREENSHOT, PROFILE (a fresh browser profile directory), DEMO_SHA256 (of
// models/hearth-demo.gguf), PUBKEY (the minisign key that signed
// hearth-demo.gguf and gen-q8.gguf), OTHER_PUB (a .pub file of another key),
// KERNELS (the kernels the worker should pick: "wasm-relaxed" where the
// build has the relaxed-SIMD modules, else "wasm128").
import {chromium} from "playwright-core";

const {WEB_URL, PROMPT, NATIVE_DEMO, NATIVE_GEN, NATIVE_GEN8, SCREENSHOT, PROFILE, DEMO_SHA256,
       PUBKEY, OTHER_PUB, KERNELS} = process.env;
let checks = 0, failed = 0;
function check(ok, what, detail) {
  checks++;
  if (!ok) {
    failed++;
    console.error(`FAIL: ${what}${detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
  }
}

const launch = () => chromium.launchPersistentContext(PROFILE, {
  executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"],
});

async function openPage(ctx) {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  return page;
}

// Waits for the page's model load; returns READY and the PROGRESS events.
async function loaded(page) {
  return page.evaluate(async () => {
    const a = await window.hearthReady;
    await navigator.serviceWorker.ready;
    return {ready: a.ready, progress: window.hearthProgress, isolated: self.crossOriginIsolated};
  });
}

// One chat turn typed into the page; returns the answer shown.
async function ask(page, text) {
  const before = await page.locator(".msg.assistant").count();
  await page.fill("#text", text);
  await page.click("#send");
  await page.waitForFunction((n) => {
    const m = document.querySelectorAll(".msg.assistant");
    return m.length > n && /tokens\/s|error/.test(document.getElementById("status").textContent);
  }, before, {timeout: 60000});
  return page.locator(".msg.assistant span").last().textContent();
}

let ctx = await launch();
try {
  let page = await openPage(ctx);
  await page.goto(WEB_URL);

  // INIT -> PROGRESS ... -> READY
  const first = await loaded(page);
  const phases = first.progress.map((p) => p.phase);
  check(phases.includes("download") && phases.includes("load"), "PROGRESS phases", phases);
  const dl = first.progress.filter((p) => p.phase === "download").pop();
  check(dl && dl.loaded === dl.total && dl.total > 0, "download progress ends at total", dl);
  check(first.ready.type === "READY" && first.ready.model === "hearth-demo", "READY", first.ready);
  check(first.ready.fromCache === false, "first load downloads the model", first.ready);
  check(first.ready.kernels === KERNELS, `kernels: ${KERNELS}`, first.ready);
  console.log(`READY: ${JSON.stringify(first.ready)} crossOriginIsolated=${first.isolated}`);

  // "What is 2+2?" answers with 4, typed into the page
  const answer = await ask(page, "What is 2+2?");
  check(/\b4\b/.test(answer), "2+2 answer", answer);
  await page.screenshot({path: SCREENSHOT});

  // tokens arrive one by one; greedy ids equal the native engine's
  const gen = await page.evaluate(async (prompt) => {
    const a = window.agent, seen = [];
    const r = await a.generate("What is 2+2?", {temperature: 0, maxTokens: 32,
      onToken: (t, id) => seen.push({t, id})});
    const raw = await a.generate(prompt, {raw: true, temperature: 0, maxTokens: 24});
    return {r, seen, raw};
  }, PROMPT);
  const ids = gen.seen.filter((s) => s.id >= 0).map((s) => s.id);
  check(gen.seen.length >= 2, "several TOKEN messages", gen.seen);
  check(JSON.stringify(ids) === JSON.stringify(gen.r.tokens), "one TOKEN per token", [ids, gen.r.tokens]);
  check(gen.seen.map((s) => s.t).join("") === gen.r.response, "TOKEN texts make the RESULT", gen.r.response);
  check(gen.r.finish === "eog" && gen.r.usage.completion_tokens === ids.length + 1, "RESULT usage", gen.r);
  check(gen.r.timings.gen_ms >= 0 && gen.r.usage.prompt_tokens > 0, "RESULT timings", gen.r.timings);
  // the same prompt as the page's chat turn: all of it but its last token
  // found in the KV cache, and the same answer
  check(gen.r.usage.cached_tokens === gen.r.usage.prompt_tokens - 1, "prompt prefix reused", gen.r.usage);
  check(gen.r.response === answer, "same answer from the reused prefix", [gen.r.response, answer]);
  check(JSON.stringify(gen.raw.tokens) === NATIVE_DEMO, "wasm ids = native ids (demo model)",
        [gen.raw.tokens, NATIVE_DEMO]);
  console.log(`demo greedy: wasm ${gen.raw.timings.gen_tps.toFixed(1)} tokens/s, ids ${JSON.stringify(gen.raw.tokens)}`);

  // embeddings: the engine's, kept in IndexedDB, searched by cosine
  const emb = await page.evaluate(async () => {
    const a = window.agent;
    const v1 = await a.embed("What is 2+2?"), v2 = await a.embed("hello there");
    await a.embeddings.save("arith", v1, {text: "What is 2+2?"});
    await a.embeddings.save("greet", v2, {text: "hello there"});
    const q = await a.embed("What is 2+2?");
    return {n: v1.length, norm: Math.hypot(...v1), hits: await a.embeddings.search(q, 2)};
  });
  check(emb.n === 128 && Math.abs(emb.norm - 1) < 1e-4, "EMBED: 128 floats, unit length", emb);
  check(emb.hits.length === 2 && emb.hits[0].id === "arith" && emb.hits[0].score > 0.9999,
        "embeddings search finds the same text first", emb.hits);

  // a chat turn cancelled at once (as the page's Stop button does) rejects
  // with CANCELLED and stores nothing
  const stop = await page.evaluate(async () => {
    const p = window.agent.chat("stopped", "Tell me a long story", {maxTokens: 500});
    window.agent.cancel(p.id);
    const code = await p.then(() => "resolved", (e) => e.code);
    return {code, history: await window.agent.history("stopped")};
  });
  check(stop.code === "CANCELLED" && stop.history.length === 0, "chat cancelled by id", stop);

  // a saved task
  const saved = await page.evaluate(() => window.agent.tasks.save({title: "buy milk", tags: ["home"]}));
  check(saved.id && saved.version === 1 && saved.status === "open", "task saved", saved);

  // The worker's protocol, errors included, on a worker of its own: after
  // each ERROR it keeps working.
  const proto = await page.evaluate(async ([demoSha, keys]) => {
    const w = new Worker("hearth-worker.js");
    const log = [];
    let waiters = [];
    w.onmessage = (ev) => {
      log.push(ev.data);
      waiters = waiters.filter((f) => !f(ev.data));
    };
    const next = (pred) => new Promise((resolve) => waiters.push((m) => pred(m) && (resolve(m), true)));
    const init = async (modelUrl, extra = {}) => {
      const p = next((m) => m.type === "READY" || m.type === "ERROR");
      w.postMessage({type: "INIT", config: {modelUrl, workerId: "t", threads: 1, ...extra}});
      return p;
    };
    const out = {};
    out.notReady = await (async () => {
      const p = next((m) => m.id === 1 && m.type === "ERROR");
      w.postMessage({type: "GENERATE", id: 1, prompt: "hi"});
      return p;
    })();
    out.badUrl = await init("http://[not a url");
    out.http404 = await init("models/no-such-model.gguf");
    out.notGguf = await init("models/not-a-model.gguf");
    out.checksum = await init("models/hearth-demo.gguf", {sha256: "00".repeat(32)});
    out.ready = await init("models/gen-q8.gguf", {contextSize: 1024});
    // cancel after the third token
    let n = 0;
    const cancelled = next((m) => m.id === 2 && (m.type === "ERROR" || m.type === "RESULT"));
    const third = next((m) => m.id === 2 && m.type === "TOKEN" && ++n === 3);
    w.postMessage({type: "GENERATE", id: 2, prompt: "Once upon a time", raw: true, maxTokens: 900,
                   temperature: 0});
    await third;
    w.postMessage({type: "CANCEL", id: 2});
    out.cancelled = await cancelled;
    out.tokensBeforeCancel = log.filter((m) => m.id === 2 && m.type === "TOKEN").length;
    const g8 = next((m) => m.id === 6 && (m.type === "RESULT" || m.type === "ERROR"));
    w.postMessage({type: "GENERATE", id: 6, prompt: "Once upon a time", raw: true, maxTokens: 24,
                   temperature: 0});
    out.gen8 = await g8;
    // signatures: good ones load (prehashed, legacy), each refusal has its
    // code; the worker goes on working after them (below)
    const {pub, other} = keys;
    out.signed = await init("models/hearth-demo.gguf", {publicKey: pub});
    out.signedLegacy = await init("models/gen-q8.gguf", {publicKey: [other, pub]});
    out.signedCached = await init("models/hearth-demo.gguf", {publicKey: pub});
    out.tampered = await init("models/hearth-demo.gguf",
                              {publicKey: pub, signatureUrl: "models/tampered.minisig"});
    out.comment = await init("models/hearth-demo.gguf",
                             {publicKey: pub, signatureUrl: "models/comment.minisig"});
    out.wrongKey = await init("models/hearth-demo.gguf", {publicKey: other});
    out.unsigned = await init("models/gen-q4k.gguf", {publicKey: pub});
    out.modified = await init("models/gen-q4k.gguf",
                              {publicKey: pub, signatureUrl: "models/hearth-demo.gguf.minisig"});
    out.badKey = await init("models/hearth-demo.gguf", {publicKey: "RWQnot a key"});
    out.badSig = await init("models/hearth-demo.gguf",
                            {publicKey: pub, signatureUrl: "models/not-a-model.gguf"});
    // still working: the demo model again (its sha256 checked), and an answer
    const from = log.length;
    out.ready2 = await init("models/hearth-demo.gguf", {sha256: demoSha});
    out.verify = log.slice(from).filter((m) => m.type === "PROGRESS" && m.phase === "verify");
    const res = next((m) => m.id === 3 && (m.type === "RESULT" || m.type === "ERROR"));
    w.postMessage({type: "GENERATE", id: 3, prompt: "What is 2+2?", temperature: 0, maxTokens: 32});
    out.after = await res;
    out.bad = await (async () => {
      const p = next((m) => m.id === 4 && m.type === "ERROR");
      w.postMessage({type: "GENERATE", id: 4});
      return p;
    })();
    // the generated model's greedy ids for the native comparison
    out.ready3 = await init("models/gen-q4k.gguf");
    const g = next((m) => m.id === 5 && (m.type === "RESULT" || m.type === "ERROR"));
    w.postMessage({type: "GENERATE", id: 5, prompt: "Once upon a time", raw: true, maxTokens: 24,
                   temperature: 0});
    out.gen = await g;
    w.terminate();
    return out;
  }, [DEMO_SHA256, {pub: PUBKEY, other: OTHER_PUB}]);
  const code = (m) => m && m.type === "ERROR" && m.error.code;
  check(code(proto.notReady) === "NOT_READY" && proto.notReady.id === 1, "GENERATE before READY", proto.notReady);
  check(code(proto.badUrl) === "BAD_URL", "bad URL", proto.badUrl);
  check(code(proto.http404) === "HTTP" && /404/.test(proto.http404.error.message), "HTTP 404", proto.http404);
  check(code(proto.notGguf) === "NOT_GGUF", "not a GGUF", proto.notGguf);
  check(code(proto.checksum) === "CHECKSUM", "sha256 mismatch", proto.checksum);
  check(proto.ready.type === "READY", "READY after errors", proto.ready);
  check(code(proto.cancelled) === "CANCELLED" && proto.cancelled.id === 2, "cancelled generation", proto.cancelled);
  check(proto.tokensBeforeCancel >= 3 && proto.tokensBeforeCancel < 900, "cancel stops early",
        proto.tokensBeforeCancel);
  check(proto.verify.length === 2 && proto.verify[1].loaded === proto.verify[1].total,
        "PROGRESS verify with a sha256", proto.verify);
  check(proto.ready2.type === "READY" && proto.after.type === "RESULT" && /\b4\b/.test(proto.after.response),
        "answers after a cancel", proto.after);
  check(code(proto.bad) === "BAD_REQUEST" && proto.bad.id === 4, "GENERATE without a prompt", proto.bad);
  const sig = (m) => m && m.type === "READY" && m.signature;
  check(sig(proto.signed) && proto.signed.signature.prehashed === true &&
        proto.signed.signature.trustedComment === "hearth-demo, web test",
        "minisign-signed model loads (prehashed: BLAKE2b in wasm, Ed25519 in WebCrypto)", proto.signed);
  check(sig(proto.signedLegacy) && proto.signedLegacy.signature.prehashed === false &&
        proto.signedLegacy.signature.keyId === proto.signed.signature.keyId,
        "legacy minisign signature loads, one of two trusted keys", proto.signedLegacy);
  check(sig(proto.signedCached) && proto.signedCached.fromCache === true,
        "signed model from the cache is checked again", proto.signedCached);
  check(code(proto.tampered) === "BAD_SIGNATURE", "tampered signature", proto.tampered);
  check(code(proto.comment) === "BAD_SIGNATURE", "tampered trusted comment", proto.comment);
  check(code(proto.wrongKey) === "UNTRUSTED_KEY", "signed by a key not trusted", proto.wrongKey);
  check(code(proto.unsigned) === "UNSIGNED", "no signature with a key configured", proto.unsigned);
  check(code(proto.modified) === "MODIFIED", "another file's signature", proto.modified);
  check(code(proto.badKey) === "MALFORMED_KEY", "malformed public key", proto.badKey);
  check(code(proto.badSig) === "MALFORMED_SIGNATURE", "malformed signature file", proto.badSig);
  check(proto.gen.type === "RESULT" && JSON.stringify(proto.gen.tokens) === NATIVE_GEN,
        "wasm ids = native ids (generated Q4_K model)", [proto.gen.tokens, NATIVE_GEN]);
  check(proto.gen8.type === "RESULT" && JSON.stringify(proto.gen8.tokens) === NATIVE_GEN8,
        "wasm ids = native ids (generated Q8_0 model, after a cancel)", [proto.gen8.tokens, NATIVE_GEN8]);

  // threads: the page is cross-origin isolated (hearth serve --web sends
  // COOP/COEP), so the threaded module runs; rows split over 2 threads give
  // the same ids. And the SIMD128 modules (relaxedSimd: false), which
  // browsers without relaxed SIMD run, on one thread and two.
  const greedy = (config) => page.evaluate(async ([prompt, config]) => {
    const w = new Worker("hearth-worker.js");
    const wait = (pred) => new Promise((resolve) => {
      w.onmessage = (ev) => { if (pred(ev.data)) resolve(ev.data); };
    });
    let p = wait((m) => m.type === "READY" || m.type === "ERROR");
    w.postMessage({type: "INIT", config});
    const ready = await p;
    p = wait((m) => m.id === 1 && (m.type === "RESULT" || m.type === "ERROR"));
    w.postMessage({type: "GENERATE", id: 1, prompt, raw: true, maxTokens: 24, temperature: 0});
    const res = await p;
    w.terminate();
    return {ready, res, isolated: self.crossOriginIsolated};
  }, [PROMPT, config]);
  const mt = await greedy({modelUrl: "models/gen-q8.gguf", threads: 2});
  check(mt.isolated && mt.ready.type === "READY" && mt.ready.threads === 2, "threaded module, 2 threads",
        mt.ready);
  check(mt.ready.kernels === KERNELS, `threaded module's kernels: ${KERNELS}`, mt.ready);
  check(mt.res.type === "RESULT" && JSON.stringify(mt.res.tokens) === NATIVE_GEN8,
        "wasm ids on 2 threads = native ids (generated Q8_0 model)", [mt.res.tokens, NATIVE_GEN8]);
  for (const [model, threads, native] of [["gen-q4k", 1, NATIVE_GEN], ["gen-q8", 1, NATIVE_GEN8],
                                          ["gen-q8", 2, NATIVE_GEN8]]) {
    const r = await greedy({modelUrl: `models/${model}.gguf`, threads, relaxedSimd: false});
    check(r.ready.type === "READY" && r.ready.kernels === "wasm128" && r.ready.threads === threads,
          `relaxedSimd: false runs the SIMD128 kernels (${model}, ${threads} thread(s))`, r.ready);
    check(r.res.type === "RESULT" && JSON.stringify(r.res.tokens) === native,
          `SIMD128 wasm ids = native ids (${model}, ${threads} thread(s))`, [r.res.tokens, native]);
  }

  // reload: history and the task are still there
  await page.reload();
  const again = await loaded(page);
  check(again.ready.fromCache === true, "reload reads the model from the cache", again.ready);
  const kept = await page.evaluate(async () => ({
    history: await window.agent.history("default"),
    tasks: await window.agent.tasks.query({status: "open", tag: "home"}),
    emb: (await window.agent.embeddings.search(await window.agent.embed("hello there"), 1))[0],
    shown: document.getElementById("log").textContent,
  }));
  check(kept.history.length === 2 && kept.history[0].content === "What is 2+2?" &&
        /\b4\b/.test(kept.history[1].content), "history survives a reload", kept.history);
  check(kept.tasks.length === 1 && kept.tasks[0].title === "buy milk", "task survives a reload", kept.tasks);
  check(kept.shown.includes("What is 2+2?"), "page shows the history", kept.shown);

  // the page's ?publicKey / ?signatureUrl: a signed model loads and says by
  // whom (the key not URL-encoded: a "+" in it arrives as " "); another key,
  // or a signature of other bytes, is refused with its code on the page
  const sigPage = async (query) => {
    const p = await ctx.newPage();
    await p.goto(WEB_URL + "?sw=0&session=sig&" + query);
    const r = await p.evaluate(async () => {
      try {
        return {ready: (await window.hearthReady).ready, status: document.getElementById("status").textContent};
      } catch (e) {
        return {code: e.code, status: document.getElementById("status").textContent};
      }
    });
    await p.close();
    return r;
  };
  const otherKey = OTHER_PUB.split("\n")[1];
  const sOk = await sigPage("publicKey=" + PUBKEY);
  check(sOk.ready && sOk.ready.signature && /signed by [0-9A-F]+/.test(sOk.status),
        "page ?publicKey: signed model loads", sOk);
  const sTwo = await sigPage("publicKey=" + encodeURIComponent(otherKey) + "&publicKey=" + encodeURIComponent(PUBKEY));
  check(sTwo.ready && sTwo.ready.signature, "page ?publicKey twice: either key", sTwo);
  const sWrong = await sigPage("publicKey=" + encodeURIComponent(otherKey));
  check(sWrong.code === "UNTRUSTED_KEY" && /error UNTRUSTED_KEY/.test(sWrong.status),
        "page ?publicKey: another key refused", sWrong);
  const sMod = await sigPage("publicKey=" + encodeURIComponent(PUBKEY) + "&signatureUrl=" +
                             encodeURIComponent("models/gen-q8.gguf.minisig"));
  check(sMod.code === "MODIFIED", "page ?signatureUrl: another file's signature refused", sMod);
  check(kept.emb && kept.emb.id === "greet", "embeddings survive a reload", kept.emb);

  // a browser restart, then offline: the app, the engine and the model come
  // from the caches, the history from IndexedDB
  await ctx.close();
  ctx = await launch();
  page = await openPage(ctx);
  await page.goto(WEB_URL);
  await loaded(page);
  await ctx.setOffline(true);
  await page.reload();
  const off = await loaded(page);
  check(off.ready.fromCache === true, "offline: model from the cache", off.ready);
  const offAnswer = await ask(page, "What is 2+2?");
  check(/\b4\b/.test(offAnswer), "offline answer", offAnswer);
  const hist = await page.evaluate(() => window.agent.history("default"));
  check(hist.length === 4, "history after a browser restart and offline", hist.length);
  const online = await page.evaluate(() => navigator.onLine);
  check(online === false, "the context was offline", online);
} finally {
  await ctx.close();
}
console.log(`${checks} checks, ${failed} failed`);
process.exit(failed ? 1 : 0);
