// The Node peer of bin/bench-peers: better-sse (npm) serving the fan-out benchmark's contract.
// GET /sse on PORT joins one better-sse channel; the control server on PORT + 1 answers
// /publish?n=&size=[&rate=] (n events broadcast on the channel; data: the publisher's monotonic
// clock in ns, 19 digits, a space, a 9-digit sequence number, a space, padding to size bytes;
// paced events carry the time they were due) and /stats (heap after a GC, subscribers, RSS).
// Usage: node --expose-gc better-sse-peer.mjs PORT. Prints "listening PORT" once ready.
import http from 'node:http';
import { createChannel, createSession } from 'better-sse';

const port = Number(process.argv[2]);
const channel = createChannel();
let sequence = 0;

const server = http.createServer(async (req, res) => {
  if (!req.url.startsWith('/sse')) {
    res.writeHead(404).end();
    return;
  }
  const session = await createSession(req, res, { serializer: (d) => String(d), retry: null, keepAlive: null });
  channel.register(session);
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));

const control = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/publish') {
    const n = Number(url.searchParams.get('n'));
    const size = Number(url.searchParams.get('size'));
    const rate = Number(url.searchParams.get('rate') ?? 0);
    const pad = 'x'.repeat(Math.max(0, size - 30));
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      let stamp = process.hrtime.bigint();
      if (rate > 0) {
        const due = start + (BigInt(i) * 1000000000n) / BigInt(rate);
        if (due > stamp) {
          await sleep(Number(due - stamp) / 1e6);
        }
        stamp = due;
      }
      channel.broadcast(stamp.toString().padStart(19, '0') + ' ' + String(sequence++).padStart(9, '0') + ' ' + pad);
      if (rate === 0) {
        await yieldToIo(); // as an application would: each event arrives from I/O, the writes go out meanwhile
      }
    }
    res.end(`published ${n} in ${Number((process.hrtime.bigint() - start) / 1000000n)} ms\n`);
  } else if (url.pathname === '/stats') {
    for (let i = 0; i < 3; i++) {
      globalThis.gc?.();
    }
    const m = process.memoryUsage();
    res.end(`heap ${m.heapUsed} subscribers ${channel.sessionCount} threads 1 rss ${m.rss}\n`);
  } else {
    res.writeHead(404).end();
  }
});

server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  control.listen({ port: port + 1, host: '127.0.0.1' }, () => console.log(`listening ${port} (better-sse, control on ${port + 1})`));
});
