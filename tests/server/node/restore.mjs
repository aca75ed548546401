// restore.mjs: saved conversation states across a `hearth serve` restart,
// through the official OpenAI Node.js client. Usage:
//   node restore.mjs first BASE STATE   two turns of a conversation; the
//                                       third turn's messages go to STATE
//   node restore.mjs next BASE REF STATE RESTORED
//                                       the third turn on BASE (a restarted
//                                       server) and on REF (saving off): the
//                                       same answer; RESTORED=1: BASE reports
//                                       cached_tokens > 0 and timings.restored_n,
//                                       0: nothing cached
//   node restore.mjs incognito BASE     an incognito conversation
import OpenAI from 'openai';
import assert from 'node:assert/strict';
import fs from 'node:fs';

const [phase, base, ...rest] = process.argv.slice(2);
const opts = { apiKey: 'none', maxRetries: 0, timeout: 120000 };
const client = (url) => new OpenAI({ baseURL: url, ...opts });
const cached = (u) => u.prompt_tokens_details.cached_tokens;

async function main() {
  const a = client(base);
  const model = (await a.models.list()).data[0].id;
  const greedy = { model, max_tokens: 8, temperature: 0, seed: 1 };
  if (phase === 'first') {
    const turn1 = [
      { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
      { role: 'user', content: 'Name three colours of the rainbow.' },
    ];
    const r1 = await a.chat.completions.create({ ...greedy, messages: turn1 });
    assert.equal(cached(r1.usage), 0, 'a fresh server has nothing cached');
    const turn2 = [...turn1, { role: 'assistant', content: r1.choices[0].message.content },
                   { role: 'user', content: 'And two more?' }];
    const r2 = await a.chat.completions.create({ ...greedy, messages: turn2 });
    assert.ok(cached(r2.usage) > 0, 'the second turn reuses the first (in memory)');
    const turn3 = [...turn2, { role: 'assistant', content: r2.choices[0].message.content },
                   { role: 'user', content: 'Thanks. One more, please.' }];
    fs.writeFileSync(rest[0], JSON.stringify(turn3));
  } else if (phase === 'next') {
    const [ref, state, restored] = rest;
    const turn3 = JSON.parse(fs.readFileSync(state, 'utf8'));
    const r = await a.chat.completions.create({ ...greedy, messages: turn3 });
    const want = await client(ref).chat.completions.create({ ...greedy, messages: turn3 });
    console.log(`after a restart: ${cached(r.usage)} of ${r.usage.prompt_tokens} prompt tokens ` +
                `cached, timings ${JSON.stringify(r.timings)}`);
    assert.equal(r.usage.prompt_tokens, want.usage.prompt_tokens);
    assert.equal(r.choices[0].message.content, want.choices[0].message.content,
                 'the same answer as a server that saves nothing');
    if (restored === '1') {
      assert.ok(cached(r.usage) > 0, 'the restarted server restored the conversation');
      assert.equal(r.timings.restored_n, cached(r.usage));
      assert.ok(r.timings.restore_ms >= 0);
    } else {
      assert.equal(cached(r.usage), 0, 'nothing restored');
    }
  } else if (phase === 'incognito') {
    const secret = [{ role: 'user', content: 'My locker code is 4711. Remember it for me.' }];
    await a.chat.completions.create({ ...greedy, messages: secret, hearth: { incognito: true } });
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
