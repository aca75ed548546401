// client.mjs: drives a running `hearth serve` through ollama's API with the
// official ollama JavaScript client (npm package `ollama`), as apps built on
// it (and on ollama's API) do. Usage:
//   node client.mjs HOST MODEL_ID
// Exits non-zero (with the failed check on stderr) if any check fails.
import { Ollama } from 'ollama';
import assert from 'node:assert/strict';

const [host, id] = process.argv.slice(2);
const ollama = new Ollama({ host });

function checkDurations(r) {
  for (const k of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
    assert.ok(Number.isInteger(r[k]) && r[k] >= 0, `${k} = ${r[k]}`);
  }
  assert.ok(r.prompt_eval_count > 0);
  assert.ok(r.eval_count > 0);
  // nanoseconds: a generation of a few tokens takes well over a microsecond
  assert.ok(r.total_duration > 1000, `total_duration ${r.total_duration} is not in ns`);
  assert.ok(r.total_duration >= r.eval_duration);
}

async function main() {
  // version and list: the one model, tagged :latest as ollama names are
  const v = await ollama.version();
  assert.match(v.version, /^\d+\.\d+\.\d+$/);
  const list = await ollama.list();
  assert.equal(list.models.length, 1);
  const m = list.models[0];
  assert.equal(m.name, `${id}:latest`);
  assert.equal(m.model, m.name);
  assert.ok(m.size > 0);
  assert.match(m.digest, /^[0-9a-f]{64}$/);
  assert.equal(m.details.format, 'gguf');
  assert.equal(m.details.family, 'qwen2');
  assert.equal(m.details.quantization_level, 'Q8_0');
  assert.ok(!Number.isNaN(Date.parse(m.modified_at)));

  // show, by either name
  for (const model of [id, m.name]) {
    const s = await ollama.show({ model });
    assert.equal(s.details.family, 'qwen2');
    assert.equal(s.model_info['general.architecture'], 'qwen2');
    assert.ok(s.model_info['general.parameter_count'] > 0);
    assert.ok(s.model_info['qwen2.embedding_length'] > 0);
    assert.ok(s.template.includes('im_start'));
    assert.deepEqual(s.capabilities, ['completion']);
  }

  // ps: loaded, with the server's context
  const ps = await ollama.ps();
  assert.equal(ps.models.length, 1);
  assert.equal(ps.models[0].name, m.name);
  assert.ok(ps.models[0].context_length > 0);
  assert.ok(!Number.isNaN(Date.parse(ps.models[0].expires_at)));

  // chat, not streamed, greedy with options mapped onto hearth's sampling
  const messages = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is 2+2?' },
  ];
  const options = { temperature: 0, num_predict: 6, seed: 1, top_k: 20, top_p: 0.9, min_p: 0.01,
                    repeat_penalty: 1.0, repeat_last_n: 32, num_ctx: 512 };
  const chat = await ollama.chat({ model: id, messages, options, keep_alive: '5m' });
  assert.equal(chat.model, id);
  assert.equal(chat.message.role, 'assistant');
  assert.equal(typeof chat.message.content, 'string');
  assert.equal(chat.done, true);
  assert.ok(['stop', 'length'].includes(chat.done_reason));
  assert.ok(chat.eval_count <= 6);
  checkDurations(chat);
  assert.ok(!Number.isNaN(Date.parse(chat.created_at)));

  // the same streamed: pieces that join to the same text, then done
  const stream = await ollama.chat({ model: id, messages, options, stream: true });
  let text = '', pieces = 0, last = null;
  for await (const part of stream) {
    if (!part.done) {
      assert.equal(part.message.role, 'assistant');
      text += part.message.content;
      pieces++;
    }
    last = part;
  }
  assert.equal(text, chat.message.content);
  assert.ok(pieces >= 1);
  assert.equal(last.done, true);
  assert.equal(last.eval_count, chat.eval_count);
  checkDurations(last);

  // generate, not streamed and streamed; num_predict bounds the answer
  const gen = await ollama.generate({ model: id, prompt: 'Why is the sky blue?', options: { temperature: 0, num_predict: 5 } });
  assert.equal(typeof gen.response, 'string');
  assert.equal(gen.done, true);
  assert.equal(gen.done_reason, 'length');
  assert.equal(gen.eval_count, 5);
  checkDurations(gen);
  const gs = await ollama.generate({ model: id, prompt: 'Why is the sky blue?', options: { temperature: 0, num_predict: 5 }, stream: true });
  let gtext = '', glast = null;
  for await (const part of gs) {
    gtext += part.response;
    glast = part;
  }
  assert.equal(gtext, gen.response);
  assert.equal(glast.done, true);
  assert.equal(glast.eval_count, 5);
  // raw: the prompt as it is, no template (a different prompt length)
  const raw = await ollama.generate({ model: id, prompt: 'Why is the sky blue?', raw: true, options: { temperature: 0, num_predict: 3 } });
  assert.ok(raw.prompt_eval_count < gen.prompt_eval_count);
  assert.equal(raw.eval_count, 3);
  // stop strings end the answer
  const stopped = await ollama.generate({ model: id, prompt: 'Count', raw: true, options: { temperature: 0, num_predict: 40, stop: [gen.response.slice(0, 1) || 'x'] } });
  assert.equal(stopped.done, true);
  // an empty prompt loads the model, as ollama does
  const load = await ollama.generate({ model: id, prompt: '' });
  assert.equal(load.done, true);
  assert.equal(load.done_reason, 'load');

  // embed: one vector per input, normalized; the older embeddings call too
  const emb = await ollama.embed({ model: id, input: ['first text', 'second text'] });
  assert.equal(emb.model, id);
  assert.equal(emb.embeddings.length, 2);
  const dim = emb.embeddings[0].length;
  assert.ok(dim > 0);
  for (const e of emb.embeddings) {
    assert.equal(e.length, dim);
    const norm = Math.sqrt(e.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
  }
  assert.ok(emb.prompt_eval_count > 0);
  assert.ok(emb.total_duration > 0);
  const one = await ollama.embed({ model: id, input: 'first text' });
  assert.deepEqual(one.embeddings[0], emb.embeddings[0]);
  const old = await ollama.embeddings({ model: id, prompt: 'first text' });
  assert.deepEqual(old.embedding, emb.embeddings[0]);

  // errors come back as ResponseError with ollama's message and status
  async function rejects(p, status, re) {
    try {
      await p;
    } catch (e) {
      assert.equal(e.name, 'ResponseError', `${e}`);
      assert.equal(e.status_code, status, `${e}`);
      assert.match(e.error, re);
      return;
    }
    assert.fail(`expected an error ${status}`);
  }
  await rejects(ollama.chat({ model: 'no-such-model', messages }), 404, /not found/);
  await rejects(ollama.show({ model: 'no-such-model' }), 404, /not found/);
  await rejects(ollama.embed({ model: 'no-such-model', input: 'x' }), 404, /not found/);
  await rejects(ollama.generate({ model: id, prompt: 'x', format: 'json' }), 400, /format/);
  await rejects(ollama.chat({ model: id, messages: [{ role: 'user', content: 'x', images: ['aGk='] }] }), 400, /images/);
  await rejects(ollama.chat({ model: id, messages, options: { temperature: 'hot' } }), 400, /temperature/);
  await rejects(ollama.pull({ model: 'llama3' }), 501, /hearth pull/);
  await rejects(ollama.delete({ model: id }), 501, /hearth/);
  await rejects(ollama.create({ model: 'x', from: id }), 501, /hearth/);
  // an overlong prompt is the client's error (400), not ours
  await rejects(ollama.generate({ model: id, prompt: 'word '.repeat(3000), raw: true }), 400, /context|fit/);
}

main().then(() => { console.log('ollama client checks passed'); }, (e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
