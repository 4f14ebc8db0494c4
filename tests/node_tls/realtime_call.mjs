// openai-node's Realtime client over wss://, trusting the test CA through NODE_EXTRA_CA_CERTS.
// Usage: node realtime_call.mjs https://127.0.0.1:PORT/v1
// Prints each server event type it waited for as a JSON line; exits 0 after response.done.
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

const [baseURL] = process.argv.slice(2);
const client = new OpenAI({ apiKey: 'sk-node-test-0000000000000000', baseURL });
const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime' }, client);
const done = setTimeout(() => { console.error('timed out'); process.exit(3); }, 60000);

rt.on('error', (err) => {
  console.error(`error: ${err.message}`);
  process.exit(2);
});
rt.on('session.created', (event) => {
  console.log(JSON.stringify({ type: event.type, url: rt.url.toString() }));
  rt.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
  rt.send({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello from node' }] },
  });
  rt.send({ type: 'response.create' });
});
rt.on('response.done', (event) => {
  console.log(JSON.stringify({ type: event.type }));
  clearTimeout(done);
  rt.close();
});
rt.socket.on('close', () => process.exit(0));
