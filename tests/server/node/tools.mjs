// tools.mjs: tool calling through the official OpenAI Node.js client against
// a running `hearth serve` (a random-weight model: it cannot plan, so every
// decision is forced with tool_choice and the checks are of the protocol).
// Usage: node tools.mjs BASE_URL
// Exits non-zero (with the failed check on stderr) if any check fails.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'none', maxRetries: 0, timeout: 120000 });

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', maxLength: 12 },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};
const now = { type: 'function', function: { name: 'now', description: 'The time', parameters: { type: 'object', properties: {} } } };
const tools = [weather, now];

function checkArgs(call) {
  assert.equal(call.type, 'function');
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  const args = JSON.parse(call.function.arguments); // always parses: the output was constrained
  if (call.function.name === 'get_weather') {
    assert.equal(typeof args.city, 'string');
    assert.ok([...args.city].length <= 12); // code points, as JSON Schema counts
    assert.ok(['celsius', 'fahrenheit'].includes(args.unit));
    if ('days' in args) assert.ok(Number.isInteger(args.days) && args.days >= 1 && args.days <= 7);
    for (const k of Object.keys(args)) assert.ok(['city', 'unit', 'days'].includes(k));
  } else {
    assert.equal(call.function.name, 'now');
  }
  return args;
}

async function main() {
  const model = (await client.models.list()).data[0].id;
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];

  // required: at least one call, of a tool that exists, with valid arguments.
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.create({ model, messages, tools, tool_choice: 'required', temperature: 1, seed, max_tokens: 300 });
    const c = r.choices[0];
    assert.equal(c.finish_reason, 'tool_calls');
    assert.equal(c.message.role, 'assistant');
    assert.ok(c.message.tool_calls.length >= 1);
    for (const call of c.message.tool_calls) checkArgs(call);
  }

  // named: exactly that function; parallel_tool_calls false: one call.
  const named = await client.chat.completions.create({
    model, messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false, temperature: 0, max_tokens: 300,
  });
  assert.equal(named.choices[0].finish_reason, 'tool_calls');
  assert.equal(named.choices[0].message.tool_calls.length, 1);
  assert.equal(named.choices[0].message.tool_calls[0].function.name, 'get_weather');
  assert.equal(named.choices[0].message.content, null);
  checkArgs(named.choices[0].message.tool_calls[0]);

  // Streamed: deltas reassembled by index give the same call (greedy).
  const stream = await client.chat.completions.create({
    model, messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false, temperature: 0, max_tokens: 300, stream: true,
  });
  const calls = [];
  let finish = null, fragments = 0;
  for await (const chunk of stream) {
    for (const ch of chunk.choices) {
      for (const d of ch.delta?.tool_calls ?? []) {
        if (!calls[d.index]) {
          assert.ok(d.id && d.type === 'function' && d.function.name, 'first delta names the call');
          calls[d.index] = { id: d.id, type: d.type, function: { name: d.function.name, arguments: d.function.arguments ?? '' } };
        } else {
          assert.equal(d.id, undefined);
          calls[d.index].function.arguments += d.function.arguments;
          fragments++;
        }
      }
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.ok(fragments >= 1);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.equal(calls[0].function.arguments, named.choices[0].message.tool_calls[0].function.arguments);
  checkArgs(calls[0]);

  // The client's own tool runner: it executes our function with the parsed
  // arguments and sends the tool message back (forced: one round).
  let ran = 0;
  const runner = client.chat.completions.runTools({
    model, messages, temperature: 0, max_tokens: 300,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    tools: [{
      type: 'function',
      function: {
        name: 'get_weather', description: weather.function.description, parameters: weather.function.parameters,
        parse: JSON.parse,
        function: (args) => { ran++; assert.equal(typeof args.city, 'string'); return { temperature: 21, sky: 'clear' }; },
      },
    }],
  });
  await runner.done();
  assert.equal(ran, 1);
  const sent = runner.messages;
  assert.ok(sent.some((m) => m.role === 'tool' && m.content.includes('21')));

  // ... and the loop closed by hand: the history with the call and its
  // result gets a final answer in text.
  const first = named.choices[0].message;
  const history = [
    ...messages,
    { role: 'assistant', content: first.content, tool_calls: first.tool_calls },
    { role: 'tool', tool_call_id: first.tool_calls[0].id, content: JSON.stringify({ temperature: 21 }) },
  ];
  const final = await client.chat.completions.create({ model, messages: history, tools, tool_choice: 'none', temperature: 0, max_tokens: 8 });
  assert.ok(['stop', 'length'].includes(final.choices[0].finish_reason));
  assert.equal(typeof final.choices[0].message.content, 'string');
  assert.equal(final.choices[0].message.tool_calls, undefined);
  // and streamed with tools offered but none forced: text, a normal finish
  const auto = await client.chat.completions.create({ model, messages: history, tools, temperature: 0, max_tokens: 8, stream: true });
  let autoFinish = null;
  for await (const chunk of auto) for (const ch of chunk.choices) if (ch.finish_reason) autoFinish = ch.finish_reason;
  assert.ok(['stop', 'length', 'tool_calls'].includes(autoFinish));

  // tool_choice none: plain text.
  const none = await client.chat.completions.create({ model, messages, tools, tool_choice: 'none', temperature: 0, max_tokens: 8 });
  assert.equal(typeof none.choices[0].message.content, 'string');
  assert.equal(none.choices[0].message.tool_calls, undefined);
  assert.ok(['stop', 'length'].includes(none.choices[0].finish_reason));

  // Bad definitions and choices: 400 naming the field.
  const bad = [
    [{ tools: [{ type: 'func', function: { name: 'a' } }] }, 'tools[0].type'],
    [{ tools: [{ type: 'function', function: { name: 'a b' } }] }, 'function.name'],
    [{ tools: [{ type: 'function', function: { name: 'a', parameters: 5 } }] }, 'parameters'],
    [{ tools: [{ type: 'function', function: { name: 'a', parameters: { type: 'object', properties: { x: { $ref: '#/nope' } } } } }] }, 'parameters'],
    [{ tools: [weather, weather] }, 'twice'],
    [{ tools: 'x' }, 'tools'],
    [{ tools, tool_choice: 'sometimes' }, 'tool_choice'],
    [{ tools, tool_choice: { type: 'function', function: { name: 'missing' } } }, 'missing'],
    [{ tool_choice: 'required' }, 'needs'],
    [{ tools, messages: [...messages, { role: 'tool', content: 'x' }] }, 'tool_call_id'],
    [{ tools, messages: [...messages, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'now' } }] }] }, 'tool_calls[0]'],
  ];
  for (const [extra, says] of bad) {
    await assert.rejects(
      client.chat.completions.create({ model, messages, max_tokens: 4, ...extra }),
      (e) => e.status === 400 && e.message.includes(says),
      JSON.stringify(extra),
    );
  }
  console.log('tools.mjs: all tool-calling checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
