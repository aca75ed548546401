// bench_web.mjs URL MODEL PROMPT N [REPS [ONLY]]: prints "tps_1thread tps_2threads
// init_ready_ms" for MODEL in the page at URL (bench_web.sh). Best of REPS
// (3) runs each; the
// INIT -> READY time is with the model already in the Cache API.
// playwright-core is tests/web's (npm ci there): resolved from the cwd
import {createRequire} from "node:module";
const {chromium} = createRequire(process.cwd() + "/")("playwright-core");

const [url, model, prompt, n, reps = "3", only] = process.argv.slice(2);
// ONLY: "1" measures one thread alone (the 2-thread figure then prints as 0)
const b = await chromium.launch({executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"]});
try {
  const page = await b.newPage();
  await page.goto(url + "?sw=0&model=none");
  const r = await page.evaluate(async ({model, prompt, n, reps, only}) => {
    const {Hearth} = await import("./hearth.js");
    const out = {};
    out[2] = 0;
    for (const threads of only === "1" ? [1] : [1, 2]) {
      const a = await Hearth.load(model, {threads, dbName: "bench"});
      out.ready = a.ready.loadMs;
      let best = 0;
      for (let i = 0; i < reps; i++) {
        const r = await a.generate(prompt, {raw: true, temperature: 0, maxTokens: n});
        best = Math.max(best, r.timings.gen_tps);
      }
      out[threads] = best;
      a.terminate();
    }
    return out;
  }, {model, prompt, n: Number(n), reps: Number(reps), only});
  console.log(`${r[1]} ${r[2]} ${r.ready}`);
} finally {
  await b.close();
}
