// client.mjs: drives a running `hearth serve` with the official OpenAI
// Node.js client, as an app on the device would. Usage:
//   node client.mjs BASE_URL [API_KEY]
// Exits non-zero (with the failed check on stderr) if any check fails.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: apiKey || 'none', maxRetries: 0, timeout: 120000 });

async function main() {
  // Models: exactly the one served.
  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  const model = models.data[0].id;
  assert.ok(model.length > 0);
  assert.equal(models.data[0].object, 'model');

  // Chat, not streamed, greedy: an answer with usage and a finish reason.
  const messages = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is 2+2?' },
  ];
  const chat = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0, seed: 1 });
  assert.equal(chat.object, 'chat.completion');
  assert.equal(chat.choices.length, 1);
  assert.equal(chat.choices[0].message.role, 'assistant');
  assert.equal(typeof chat.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(chat.choices[0].finish_reason));
  assert.ok(chat.usage.prompt_tokens > 0);
  assert.ok(chat.usage.completion_tokens > 0 && chat.usage.completion_tokens <= 8);
  assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);

  // The same request streamed: chunks that concatenate to the same text
  // (greedy decoding is deterministic), then the usage chunk.
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 8, temperature: 0, seed: 1, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '', chunks = 0, finish = null, usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta && c.delta.content) { text += c.delta.content; chunks++; }
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(text, chat.choices[0].message.content);
  assert.ok(chunks >= 1);
  assert.ok(['stop', 'length'].includes(finish));
  assert.ok(usage && usage.completion_tokens === chat.usage.completion_tokens);

  // Several clients at once (the server batches them; tests/engine/test_sched
  // shows batched answers equal unbatched ones): each gets a whole answer.
  const many = await Promise.all([0, 1, 2, 3].map((i) =>
    client.chat.completions.create({ model, max_tokens: 8, temperature: 0,
      messages: [{ role: 'user', content: `Question number ${i}?` }] })));
  for (const r of many) {
    assert.equal(typeof r.choices[0].message.content, 'string');
    assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 8);
  }

  // Raw completion.
  const comp = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  assert.equal(comp.object, 'text_completion');
  assert.equal(typeof comp.choices[0].text, 'string');
  assert.ok(comp.usage.completion_tokens >= 1 && comp.usage.completion_tokens <= 5);

  // Streamed completion.
  const cstream = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 5, temperature: 0, stream: true });
  let ctext = '';
  for await (const chunk of cstream) ctext += chunk.choices[0]?.text ?? '';
  assert.equal(ctext, comp.choices[0].text);

  // Embeddings: unit vectors, one per input, in order.
  const emb = await client.embeddings.create({ model, input: ['hello world', 'tasks on my device'] , encoding_format: 'float'});
  assert.equal(emb.data.length, 2);
  for (const [i, d] of emb.data.entries()) {
    assert.equal(d.index, i);
    const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-3, `embedding ${i} norm ${norm}`);
  }
  assert.notDeepEqual(emb.data[0].embedding, emb.data[1].embedding);
  assert.ok(emb.usage.prompt_tokens > 0);

  // Errors come back as the client's typed errors with the right status.
  await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages }),
                       (e) => e.status === 404);
  await assert.rejects(client.chat.completions.create({ model, messages: [] }),
                       (e) => e.status === 400);
  console.log(`ok: model ${model}, answer ${JSON.stringify(chat.choices[0].message.content)}`);
}

main().catch((e) => { console.error('FAILED:', e); process.exit(1); });
