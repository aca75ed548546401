// reuse.mjs: prefix reuse in `hearth serve`'s scheduler slots, through the
// official OpenAI Node.js client. Usage: node reuse.mjs BASE_A BASE_B
// (two servers of the same model; B has not seen the conversation yet).
// A conversation's second turn on A reports cached_tokens > 0 (its first
// turn's tokens were still in a slot) and gives the answer B gives without
// them; streamed usage and completions report them too; an incognito
// request leaves nothing in a slot.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseA, baseB] = process.argv.slice(2);
const opts = { apiKey: 'none', maxRetries: 0, timeout: 120000 };
const a = new OpenAI({ baseURL: baseA, ...opts });
const b = new OpenAI({ baseURL: baseB, ...opts });
const cached = (u) => u.prompt_tokens_details.cached_tokens;

async function main() {
  const model = (await a.models.list()).data[0].id;
  const greedy = { model, max_tokens: 8, temperature: 0, seed: 1 };
  const turn1 = [
    { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
    { role: 'user', content: 'Name three colours of the rainbow.' },
  ];
  const r1 = await a.chat.completions.create({ ...greedy, messages: turn1 });
  assert.equal(cached(r1.usage), 0, 'a fresh server has nothing cached');

  const turn2 = [...turn1, { role: 'assistant', content: r1.choices[0].message.content },
                 { role: 'user', content: 'And two more?' }];
  const r2 = await a.chat.completions.create({ ...greedy, messages: turn2 });
  const fresh = await b.chat.completions.create({ ...greedy, messages: turn2 });
  console.log(`second turn: ${r2.usage.prompt_tokens} prompt tokens, ${cached(r2.usage)} cached`);
  assert.ok(cached(r2.usage) > 0, 'the second turn reuses the first');
  assert.ok(cached(r2.usage) < r2.usage.prompt_tokens);
  assert.equal(cached(fresh.usage), 0);
  assert.equal(r2.usage.prompt_tokens, fresh.usage.prompt_tokens);
  assert.equal(r2.choices[0].message.content, fresh.choices[0].message.content,
               'the same answer as without reuse');

  // Streamed with include_usage: the usage chunk has them.
  const turn3 = [...turn2, { role: 'assistant', content: r2.choices[0].message.content },
                 { role: 'user', content: 'Thanks. One more, please.' }];
  const stream = await a.chat.completions.create({
    ...greedy, messages: turn3, stream: true, stream_options: { include_usage: true },
  });
  let text = '', usage = null;
  for await (const ch of stream) {
    if (ch.choices.length) text += ch.choices[0].delta.content ?? '';
    if (ch.usage) usage = ch.usage;
  }
  assert.ok(usage && cached(usage) > cached(r2.usage), 'streamed usage: cached_tokens');
  const ref3 = await b.chat.completions.create({ ...greedy, messages: turn3 });
  assert.equal(text, ref3.choices[0].message.content, 'streamed answer as the other server\'s');

  // Raw completions: a prompt extending an earlier one.
  const p = 'The quick brown fox jumps over the lazy dog. '.repeat(3);
  const c1 = await a.completions.create({ ...greedy, prompt: p });
  const c2 = await a.completions.create({ ...greedy, prompt: p + 'Again:' });
  const c2ref = await b.completions.create({ ...greedy, prompt: p + 'Again:' });
  assert.equal(cached(c1.usage), 0);
  assert.ok(cached(c2.usage) > 0, 'completions: cached_tokens');
  assert.equal(c2.choices[0].text, c2ref.choices[0].text);
  // Incognito: nothing of it stays in a slot for its continuation to find.
  const secret = [{ role: 'user', content: 'My locker code is 4711. Remember it for me.' }];
  const s1 = await a.chat.completions.create({ ...greedy, messages: secret, hearth: { incognito: true } });
  const s2 = await a.chat.completions.create({
    ...greedy, messages: [...secret, { role: 'assistant', content: s1.choices[0].message.content },
                          { role: 'user', content: 'What is it?' }],
  });
  console.log(`after an incognito request: ${cached(s2.usage)} of ${s2.usage.prompt_tokens} cached`);
  assert.ok(cached(s2.usage) < s1.usage.prompt_tokens, 'an incognito prompt was kept in a slot');
  console.log('reuse: all checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
