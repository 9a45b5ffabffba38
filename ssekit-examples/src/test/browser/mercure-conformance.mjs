// The cases of Mercure's conformance suites (dunglas/mercure conformance-tests/mercure.spec.ts), written again for
// Debian's headless Chromium. SUITE 1.0 (the default): the ten cases at tag v1.0.0-alpha.3, on match= /
// match_urlpattern=. SUITE 0.24.2: the eleven cases at tag v0.24.2, on topic= with URI templates, for a hub in
// compatibility mode 8. For each case the page opens an anonymous EventSource, waits for `open`, publishes with a
// same-origin fetch POST carrying TOKEN, and waits 2 s for a `message` whose lastEventId and data are the published
// ones. The data has an empty line and 8 leading spaces; ids are reused between the public and the private cases.
// Prints one JSON line per case: {"kind":"conformance","name",...,"received","status","contentType","body"}.
// The Java test (HubConformanceBrowserTest) starts the hub, runs this and asserts.
// usage: node mercure-conformance.mjs BASE_URL TOKEN [1.0|0.24.2]
import { randomBytes } from 'node:crypto';
import { launchChromium } from './chromium.mjs';

const [base, token, suite = '1.0'] = process.argv.slice(2);
const random = () => randomBytes(20).toString('hex');
const r = Array.from({ length: 6 }, random);
const v1 = [
  { name: 'raw string', mustBeReceived: true, updateTopics: [r[0]], topicSelectors: [r[0]] },
  { name: 'multiple topic selectors', mustBeReceived: true, updateTopics: [r[2]], topicSelectors: ['foo', r[2]] },
  { name: 'URI', mustBeReceived: true, updateTopics: [`https://example.net/foo/${r[3]}`], topicSelectors: [`https://example.net/foo/${r[3]}`] },
  { name: 'URL pattern', mustBeReceived: true, updateTopics: [`https://example.net/foo/${r[4]}`], topicSelectors: ['https://example.net/foo/:random'] },
  { name: 'nonmatching raw string', mustBeReceived: false, updateTopics: ['will-not-match'], topicSelectors: ['another-name'] },
  { name: 'nonmatching URI', mustBeReceived: false, updateTopics: ['https://example.net/foo/will-not-match'],
    topicSelectors: ['https://example.net/foo/another-name'] },
  { name: 'nonmatching URL pattern', mustBeReceived: false, updateTopics: ['https://example.net/foo/will-not-match'],
    topicSelectors: ['https://example.net/bar/:var'] },
  { name: 'private raw string', mustBeReceived: false, private: true, updateTopics: [r[0]], topicSelectors: [r[0]] },
  { name: 'private URI', mustBeReceived: false, private: true, updateTopics: [`https://example.net/foo/${r[3]}`],
    topicSelectors: [`https://example.net/foo/${r[3]}`] },
  { name: 'private URL pattern', mustBeReceived: false, private: true, updateTopics: [`https://example.net/foo/${r[4]}`],
    topicSelectors: ['https://example.net/foo/:random'] },
];
// v0.24.2, as written there (the stray `}` of the non-matching topics included)
const v0 = [
  { name: 'raw string', mustBeReceived: true, updateTopics: [r[0]], topicSelectors: [r[0]] },
  { name: 'multiple topics', mustBeReceived: true, updateTopics: [random(), r[1]], topicSelectors: [r[1]] },
  { name: 'multiple topic selectors', mustBeReceived: true, updateTopics: [r[2]], topicSelectors: ['foo', r[2]] },
  { name: 'URI', mustBeReceived: true, updateTopics: [`https://example.net/foo/${r[3]}`], topicSelectors: [`https://example.net/foo/${r[3]}`] },
  { name: 'URI template', mustBeReceived: true, updateTopics: [`https://example.net/foo/${r[4]}`], topicSelectors: ['https://example.net/foo/{random}'] },
  { name: 'nonmatching raw string', mustBeReceived: false, updateTopics: ['will-not-match}'], topicSelectors: ['another-name'] },
  { name: 'nonmatching URI', mustBeReceived: false, updateTopics: ['https://example.net/foo/will-not-match}'],
    topicSelectors: ['https://example.net/foo/another-name'] },
  { name: 'nonmatching URI template', mustBeReceived: false, updateTopics: ['https://example.net/foo/will-not-match}'],
    topicSelectors: ['https://example.net/bar/{var}'] },
  { name: 'private raw string', mustBeReceived: false, private: true, updateTopics: [r[0]], topicSelectors: [r[0]] },
  { name: 'private URI', mustBeReceived: false, private: true, updateTopics: [`https://example.net/foo/${r[3]}`],
    topicSelectors: [`https://example.net/foo/${r[3]}`] },
  { name: 'private URI template', mustBeReceived: false, private: true, updateTopics: [`https://example.net/foo/${r[4]}`],
    topicSelectors: ['https://example.net/foo/{random}'] },
];
if (suite !== '1.0' && suite !== '0.24.2') throw new Error('SUITE must be 1.0 or 0.24.2, got ' + suite);
const cases = suite === '1.0' ? v1 : v0;

const browser = await launchChromium();
try {
  const context = await browser.newContext();
  for (const c of cases) {
    const page = await context.newPage();
    page.on('console', (m) => console.error(`[${c.name}] ${m.text()}`));
    await page.goto(base + '/'); // any response will do: the page only needs the hub's origin
    c.updateID = `id-${JSON.stringify(c.updateTopics)}`;
    const result = await page.evaluate(async ({ c, token, suite }) => {
      let resolveReady;
      const ready = new Promise((resolve) => { resolveReady = resolve; });
      let resolveReceived;
      const received = new Promise((resolve) => { resolveReceived = () => resolve(true); });
      const url = new URL('/.well-known/mercure', window.origin);
      for (const s of c.topicSelectors) {
        url.searchParams.append(suite === '0.24.2' ? 'topic' : /\/:[A-Za-z_]/.test(s) ? 'match_urlpattern' : 'match', s);
      }
      const event = new URLSearchParams();
      c.updateTopics.forEach((t) => event.append('topic', t));
      event.set('id', c.updateID);
      event.set('data', `data for

        ${c.name}`);
      if (c.private) event.set('private', 'on');
      const es = new EventSource(url);
      es.onopen = () => resolveReady();
      es.onmessage = (e) => {
        if (e.type === 'message' && e.lastEventId === event.get('id') && e.data === event.get('data')) {
          es.close();
          resolveReceived();
        }
      };
      const opened = await Promise.race([ready.then(() => true), new Promise((res) => setTimeout(res, 5000, false))]);
      if (!opened) {
        es.close();
        return { opened: false, received: false };
      }
      const resp = await fetch('/.well-known/mercure', {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: event,
      });
      const body = await resp.text();
      const got = await Promise.race([received, new Promise((res) => setTimeout(res, 2000, false))]);
      es.close();
      return { opened: true, received: got, status: resp.status, contentType: resp.headers.get('Content-Type'), body };
    }, { c, token, suite });
    console.log(JSON.stringify({ kind: 'conformance', name: c.name, mustBeReceived: c.mustBeReceived, id: c.updateID, ...result }));
    await page.close();
  }
} finally {
  await browser.close();
}
