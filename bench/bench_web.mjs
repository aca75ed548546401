// bench_web.mjs URL MODEL PROMPT N [REPS [ONLY]]: prints "tps_simd128_1thread
// tps_1thread tps_2threads kernels init_ready_ms" for MODEL in the page at
// URL (bench_web.sh): the SIMD128 modules on one thread (relaxedSimd:
// false), then the modules the worker picks (the relaxed-SIMD ones where the
// browser and the build have them) on one thread and on two. Best of REPS (3)
// runs each, after one unmeasured run; the INIT -> READY time is with the
// model already in the Cache API.
// playwright-core is tests/web's (npm ci there): resolved from the cwd
import {createRequire} from "node:module";
const {chromium} = createRequire(process.cwd() + "/")("playwright-core");

const [url, model, prompt, n, reps = "3", only] = process.argv.slice(2);
// ONLY: "1" measures the default modules on one thread alone (the others print as 0)
const b = await chromium.launch({executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"]});
try {
  const page = await b.newPage();
  await page.goto(url + "?sw=0&model=none");
  const r = await page.evaluate(async ({model, prompt, n, reps, only}) => {
    const {Hearth} = await import("./hearth.js");
    const runs = [["simd128", {threads: 1, relaxedSimd: false}], ["1", {threads: 1}], ["2", {threads: 2}]];
    const out = {simd128: 0, 1: 0, 2: 0};
    for (const [key, opts] of runs) {
      if (only === "1" && key !== "1") continue;
      const a = await Hearth.load(model, {...opts, dbName: "bench"});
      out.ready = a.ready.loadMs;
      if (key === "1") out.kernels = a.ready.kernels;
      // one run unmeasured first: V8 runs a module's functions in its
      // baseline compiler (Liftoff) until they are hot enough for TurboFan
      await a.generate(prompt, {raw: true, temperature: 0, maxTokens: n});
      let best = 0;
      for (let i = 0; i < reps; i++) {
        const r = await a.generate(prompt, {raw: true, temperature: 0, maxTokens: n});
        best = Math.max(best, r.timings.gen_tps);
      }
      out[key] = best;
      a.terminate();
    }
    return out;
  }, {model, prompt, n: Number(n), reps: Number(reps), only});
  console.log(`${r.simd128} ${r[1]} ${r[2]} ${r.kernels} ${r.ready}`);
} finally {
  await b.close();
}
