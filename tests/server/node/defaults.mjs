// defaults.mjs: the official OpenAI Node.js client with its DEFAULTS against
// a running `hearth serve`: embeddings without encoding_format (the client
// asks for base64 and decodes it), encoding_format float and base64 giving the
// same numbers, 'dimensions', and models.retrieve. Usage:
//   node defaults.mjs BASE_URL
// Exits non-zero (with the failed check on stderr) if any check fails.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'none', maxRetries: 0, timeout: 120000 });

async function main() {
  const models = await client.models.list();
  const model = models.data[0].id;

  // models.retrieve: the served model, and OpenAI's 404 for another.
  const m = await client.models.retrieve(model);
  assert.equal(m.id, model);
  assert.equal(m.object, 'model');
  await assert.rejects(client.models.retrieve('no-such-model'),
                       (e) => e.status === 404 && e.code === 'model_not_found' &&
                              e.type === 'invalid_request_error');

  // Embeddings with the client's defaults (base64 on the wire, decoded by it).
  const input = ['hello world', 'tasks on my device'];
  const def = await client.embeddings.create({ model, input });
  assert.equal(def.data.length, 2);
  const dim = def.data[0].embedding.length;
  assert.ok(dim > 0);
  for (const [i, d] of def.data.entries()) {
    assert.equal(d.index, i);
    assert.ok(Array.isArray(d.embedding));
    const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-3, `embedding ${i} norm ${norm}`);
  }

  // float: the same vectors (float32 on the wire for base64, so ~1e-7 apart).
  const flt = await client.embeddings.create({ model, input, encoding_format: 'float' });
  for (let i = 0; i < 2; i++)
    for (let k = 0; k < dim; k++)
      assert.ok(Math.abs(flt.data[i].embedding[k] - def.data[i].embedding[k]) < 1e-6, `float vs base64 ${i}/${k}`);

  // base64 asked for explicitly: a string, little-endian float32.
  const b64 = await client.embeddings.create({ model, input: 'hello world', encoding_format: 'base64' });
  assert.equal(typeof b64.data[0].embedding, 'string');
  const buf = Buffer.from(b64.data[0].embedding, 'base64');
  assert.equal(buf.length, dim * 4);
  for (let k = 0; k < dim; k++)
    assert.ok(Math.abs(buf.readFloatLE(4 * k) - flt.data[0].embedding[k]) < 1e-6, `le float ${k}`);

  // dimensions: the model's own size is accepted; another is a 400.
  const same = await client.embeddings.create({ model, input: 'hello world', dimensions: dim });
  assert.equal(same.data[0].embedding.length, dim);
  await assert.rejects(client.embeddings.create({ model, input: 'hello world', dimensions: 8 }),
                       (e) => e.status === 400 && /dimensions/.test(e.message));
  await assert.rejects(client.embeddings.create({ model, input: 'x', encoding_format: 'int8' }),
                       (e) => e.status === 400);
  console.log(`ok: model ${model}, ${dim} dimensions`);
}

main().catch((e) => { console.error('FAILED:', e); process.exit(1); });
