// page_test.mjs: runs a test program built for the web (emscripten,
// -sENVIRONMENT=web -sSINGLE_FILE=1 -sEXIT_RUNTIME=1: one .js) in a page of
// Debian's headless chromium (playwright-core), for what node cannot run:
// the relaxed-SIMD kernels (node 20's V8 gets relaxed_dot wrong). Prints the
// program's stdout and stderr and exits with its exit status (1 if it did
// not exit within the time limit). Usage: node page_test.mjs TEST.js [SECONDS]
import {chromium} from "playwright-core";
import {readFileSync} from "node:fs";

const [script, seconds = "300"] = process.argv.slice(2);
const browser = await chromium.launch({executablePath: "/usr/bin/chromium", headless: true,
                                       args: ["--no-sandbox", "--js-flags=--perf-prof --no-liftoff --no-wasm-tier-up", "--single-process"]});
let status = 1;
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.log(m.text()));
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.setContent("<!doctype html><title>test</title>");
  await page.evaluate(() => {
    window.testExit = new Promise((resolve) => {
      window.Module = {print: (t) => console.log(t), printErr: (t) => console.log(t),
                       onExit: resolve, onAbort: () => resolve(134)};
    });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", {interval: 50});
  await cdp.send("Profiler.start");
  await page.addScriptTag({content: readFileSync(script, "utf8")});
  status = await page.evaluate((ms) => Promise.race([
    window.testExit, new Promise((r) => setTimeout(() => r("timeout"), ms))]), Number(seconds) * 1000);
  const {profile} = await cdp.send("Profiler.stop");
  (await import("node:fs")).writeFileSync("/tmp/prof/page.cpuprofile", JSON.stringify(profile));
  if (status === "timeout") {
    console.error(`FAIL: ${script} did not exit within ${seconds} s`);
    status = 1;
  }
} finally {
  await browser.close();
}
process.exit(status);
