// A third-party SSE server (better-sse from npm) for ssekit's interoperability test.
// First connection: three events, then the response ends. A reconnection with Last-Event-ID gets
// one event that echoes it, and stays open. Prints "listening PORT" once ready.
import http from 'node:http';
import { createSession } from 'better-sse';

const server = http.createServer(async (req, res) => {
  if (!req.url.startsWith('/sse')) {
    res.writeHead(404).end();
    return;
  }
  const session = await createSession(req, res, { serializer: (d) => String(d), retry: null, keepAlive: null });
  const last = req.headers['last-event-id'];
  if (last === undefined) {
    session.push('hello from better-sse', 'greeting', '1');
    session.push('line one\nline two\r\nline three', 'multi', '2');
    session.push('Grüße, 世界 😀', 'message', '3');
    setTimeout(() => res.end(), 50);
  } else {
    session.push('resumed after ' + last, 'resume', '4');
  }
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
process.stdin.on('end', () => process.exit(0)); // the test closes stdin to stop us
process.stdin.resume();
