/*
 * hearth.js: an ES module over hearth-worker.js (issue 19).
 *
 *   import {Hearth} from "./hearth.js";
 *   const agent = await Hearth.load("models/hearth-demo.gguf", {onProgress});
 *   const r = await agent.generate("What is 2+2?", {maxTokens, temperature, topP, onToken});
 *   await agent.chat("default", "Hello");   // history kept in IndexedDB
 *   await agent.history("default");          // [{role, content, ts}, ...]
 *   await agent.tasks.save({title: "buy milk"}); await agent.tasks.query({status: "open"});
 *   const v = await agent.embed("text"); await agent.embeddings.save("doc1", v, {title: "..."});
 *   await agent.embeddings.search(v, 5);      // [{id, score, meta}], cosine, best first
 *
 * Storage is the browser's own (IndexedDB database "hearth", or
 * options.dbName): object stores "tasks" (keyed by id), "messages"
 * (auto-increment, index "session") and "embeddings" (keyed by id), so a
 * reload or a browser restart keeps them and nothing leaves the browser.
 * Failures reject with an Error whose .code is the worker's error code
 * (hearth-worker.js lists them).
 */

const DB_VERSION = 1;

function openDb(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("tasks")) {
        const t = db.createObjectStore("tasks", {keyPath: "id"});
        t.createIndex("status", "status");
        t.createIndex("updated_ms", "updated_ms");
      }
      if (!db.objectStoreNames.contains("messages")) {
        const m = db.createObjectStore("messages", {keyPath: "seq", autoIncrement: true});
        m.createIndex("session", "session");
      }
      if (!db.objectStoreNames.contains("embeddings"))
        db.createObjectStore("embeddings", {keyPath: "id"});
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});
const committed = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = tx.onabort = () => reject(tx.error);
});

function workerError(e) {
  const err = new Error(e.error.message);
  err.code = e.error.code;
  if (e.partial !== undefined) err.partial = e.partial;
  return err;
}

/* The browser's store: the seed's IndexedDBStorage (tasks, messages,
 * embeddings). */
class Store {
  constructor(db) { this.db = db; }

  async addMessages(session, msgs) {
    const tx = this.db.transaction("messages", "readwrite");
    const st = tx.objectStore("messages");
    for (const m of msgs) st.add({session, role: m.role, content: m.content, ts: Date.now()});
    await committed(tx);
  }

  async history(session) {
    const tx = this.db.transaction("messages");
    const rows = await done(tx.objectStore("messages").index("session").getAll(session));
    return rows.sort((a, b) => a.seq - b.seq).map(({role, content, ts}) => ({role, content, ts}));
  }

  async clearHistory(session) {
    const tx = this.db.transaction("messages", "readwrite");
    const idx = tx.objectStore("messages").index("session");
    const keys = await done(idx.getAllKeys(session));
    for (const k of keys) tx.objectStore("messages").delete(k);
    await committed(tx);
  }

  /* Adds or replaces a task (the native store's fields: id, title, notes,
   * status, priority, due_ms, tags, payload, created_ms, updated_ms,
   * version). No id: one is made. Returns the stored task. */
  async saveTask(task) {
    if (!task || typeof task.title !== "string" || !task.title)
      throw Object.assign(new Error("a task needs a title"), {code: "BAD_REQUEST"});
    const tx = this.db.transaction("tasks", "readwrite");
    const st = tx.objectStore("tasks");
    const id = task.id || crypto.randomUUID();
    const old = await done(st.get(id));
    const now = Date.now();
    const t = {
      notes: "", status: "open", priority: 0, due_ms: 0, tags: [], payload: null,
      ...old, ...task, id,
      created_ms: old ? old.created_ms : now, updated_ms: now,
      version: old ? old.version + 1 : 1,
    };
    st.put(t);
    await committed(tx);
    return t;
  }

  /* Tasks matching filters {status, tag, q (in title or notes), limit},
   * most recently updated first. */
  async queryTasks(filters = {}) {
    const tx = this.db.transaction("tasks");
    let rows = await done(tx.objectStore("tasks").getAll());
    if (filters.status) rows = rows.filter((t) => t.status === filters.status);
    if (filters.tag) rows = rows.filter((t) => (t.tags || []).includes(filters.tag));
    if (filters.q) {
      const q = filters.q.toLowerCase();
      rows = rows.filter((t) => (t.title + " " + t.notes).toLowerCase().includes(q));
    }
    rows.sort((a, b) => b.updated_ms - a.updated_ms);
    return filters.limit ? rows.slice(0, filters.limit) : rows;
  }

  /* Keeps vector (an array of floats) under id with meta (any value). */
  async saveEmbedding(id, vector, meta = null) {
    const tx = this.db.transaction("embeddings", "readwrite");
    tx.objectStore("embeddings").put({id, vector: Array.from(vector), meta, ts: Date.now()});
    await committed(tx);
  }

  /* The k stored embeddings most similar to vector (cosine), best first:
   * [{id, score, meta}]. */
  async searchEmbeddings(vector, k = 5) {
    const tx = this.db.transaction("embeddings");
    const rows = await done(tx.objectStore("embeddings").getAll());
    const norm = (v) => Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
    const nq = norm(vector);
    return rows
      .filter((r) => r.vector.length === vector.length)
      .map((r) => ({id: r.id, meta: r.meta,
                    score: r.vector.reduce((a, x, i) => a + x * vector[i], 0) / (nq * norm(r.vector))}))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }

  async deleteTask(id) {
    const tx = this.db.transaction("tasks", "readwrite");
    tx.objectStore("tasks").delete(id);
    await committed(tx);
  }
}

export class Hearth {
  constructor(worker, ready, store) {
    this.worker = worker;
    this.ready = ready;
    this.store = store;
    this.nextId = 1;
    this.pending = new Map();
    this.tasks = {
      save: (t) => store.saveTask(t),
      query: (f) => store.queryTasks(f),
      delete: (id) => store.deleteTask(id),
    };
    this.embeddings = {
      save: (id, vector, meta) => store.saveEmbedding(id, vector, meta),
      search: (vector, k) => store.searchEmbeddings(vector, k),
    };
    worker.onmessage = (ev) => this._onMessage(ev.data);
  }

  /* Starts the worker and loads the model at url. options: onProgress
   * ({phase, loaded, total}), workerUrl, threads, contextSize, sha256,
   * publicKey and signatureUrl (a minisign signature required: see
   * hearth-worker.js), relaxedSimd (false: the SIMD128 modules even where
   * relaxed SIMD runs), dbName. Resolves with the agent once READY; rejects on ERROR. */
  static async load(url, options = {}) {
    const workerUrl = options.workerUrl || new URL("./hearth-worker.js", import.meta.url);
    const worker = new Worker(workerUrl);
    const store = new Store(await openDb(options.dbName || "hearth"));
    const threads = options.threads ||
      (self.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 4) : 1);
    const ready = await new Promise((resolve, reject) => {
      worker.onmessage = (ev) => {
        const m = ev.data;
        if (m.type === "PROGRESS" && options.onProgress) options.onProgress(m);
        else if (m.type === "READY") resolve(m);
        else if (m.type === "ERROR") reject(workerError(m));
      };
      worker.onerror = (e) => reject(Object.assign(new Error(e.message || "worker failed"),
                                                   {code: "ENGINE"}));
      worker.postMessage({type: "INIT", config: {
        modelUrl: String(url), workerId: options.workerId || "hearth-0", threads,
        contextSize: options.contextSize || 0, sha256: options.sha256,
        publicKey: options.publicKey, signatureUrl: options.signatureUrl,
        relaxedSimd: options.relaxedSimd,
      }});
    });
    return new Hearth(worker, ready, store);
  }

  _onMessage(m) {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === "TOKEN") {
      if (p.onToken) p.onToken(m.text, m.token);
    } else if (m.type === "RESULT") {
      this.pending.delete(m.id);
      p.resolve(m);
    } else if (m.type === "ERROR") {
      this.pending.delete(m.id);
      p.reject(workerError(m));
    }
  }

  _send(body, onToken, id = this.nextId++) {
    const promise = new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject, onToken});
    });
    this.worker.postMessage(Object.assign({type: "GENERATE", id}, body));
    promise.id = id;
    return promise;
  }

  /* One answer to prompt (chat template applied; opts.raw: none). opts:
   * maxTokens, temperature, topP, seed, onToken(text, id). Resolves with
   * the RESULT message ({response, tokens, finish, usage, timings}); the
   * promise's .id is what cancel takes. */
  generate(prompt, opts = {}) {
    const {onToken, ...rest} = opts;
    return this._send({prompt, ...rest}, onToken);
  }

  /* The model's embedding of text (L2-normalized floats). */
  async embed(text) {
    const id = this.nextId++;
    const r = await new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject});
      this.worker.postMessage({type: "EMBED", id, text});
    });
    return r.embedding;
  }

  /* Cancels generation id (the promise rejects with code CANCELLED). */
  cancel(id) { this.worker.postMessage({type: "CANCEL", id}); }

  /* The next turn of session: its history from the store, then text; the
   * exchange is stored once the answer is complete (a failed or cancelled
   * turn stores nothing). The promise's .id is what cancel takes. */
  chat(session, text, opts = {}) {
    const id = this.nextId++;
    const {onToken, ...rest} = opts;
    const promise = (async () => {
      const past = await this.store.history(session);
      const messages = past.map(({role, content}) => ({role, content}));
      messages.push({role: "user", content: text});
      const r = await this._send({messages, ...rest}, onToken, id);
      await this.store.addMessages(session, [
        {role: "user", content: text}, {role: "assistant", content: r.response}]);
      return r;
    })();
    promise.id = id;
    return promise;
  }

  history(session) { return this.store.history(session); }
  clearHistory(session) { return this.store.clearHistory(session); }

  terminate() { this.worker.terminate(); }
}

export default Hearth;
