// Drives the hub's status page (/status) in Debian's headless Chromium. A page with a wrong token
// must show the refusal; the page with STATUS_URL's token must go live. Then this script makes
// traffic: SUBSCRIBERS streams (match=) on topics of their own and a stream of publishes (with
// PUBLISHER_TOKEN, a Mercure 1.0 access token) until the status page's figures have moved: connections, publishes/s,
// deliveries/s, history, and the subscribers listed. With SECONDS > 0 the traffic goes on (rising
// and falling, subscribers joining and leaving) that long before the screenshot, for the README's
// picture. Prints one JSON line with the figures read from the page's DOM before and after.
// The Java test (HubStatusBrowserTest) starts the hub, runs this and asserts.
// usage: node hub-status.mjs STATUS_URL PUBLISHER_TOKEN SCREENSHOT_PATH SUBSCRIBERS SECONDS
import { launchChromium } from './chromium.mjs';

const [statusUrl, publisherToken, screenshot, subscribersArg, secondsArg] = process.argv.slice(2);
const subscribers = Number(subscribersArg);
const seconds = Number(secondsArg);
const base = new URL(statusUrl).origin;
const topic = (i) => 'https://example.com/status-test/' + i;

/** What the status page shows: each figure's number (data-value) and the listed topics. */
function read() {
  const value = (id) => {
    const v = document.getElementById(id).dataset.value;
    return v === undefined || v === '' ? null : Number(v);
  };
  return {
    state: document.getElementById('state').textContent,
    connections: value('connections'),
    publishes: value('publishes'),
    deliveries: value('deliveries'),
    evictions: value('evictions'),
    history: value('history'),
    subscriptionCount: value('subscription-count'),
    topics: [...document.querySelectorAll('#subscriptions tr')].map((tr) => tr.firstChild.textContent),
  };
}

const streams = [];
let publishing = null;
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1180, height: 700 } });

  const refusedPage = await context.newPage();
  await refusedPage.goto(base + '/status#token=not-a-token');
  await refusedPage.waitForFunction(() => document.getElementById('state').textContent.startsWith('refused'), null,
    { timeout: 20000 });
  const refused = await refusedPage.textContent('#state');
  await refusedPage.close();

  const page = await context.newPage();
  page.on('console', (m) => console.error('page console:', m.text()));
  await page.goto(statusUrl);
  await page.waitForFunction(() => document.getElementById('state').textContent === 'live'
    && document.getElementById('connections').dataset.value !== undefined, null, { timeout: 20000 });
  const before = await page.evaluate(read);
  const addressBar = page.url();

  // the traffic comes from Node's fetch, not from the browser: Chromium opens at most six HTTP/1.1
  // connections to one host, and the status page holds one of them
  const subscribe = async (selector, param = 'match') => {
    const abort = new AbortController();
    const r = await fetch(base + '/.well-known/mercure?' + param + '=' + encodeURIComponent(selector), { signal: abort.signal });
    if (!r.ok) throw new Error('subscribe ' + selector + ': ' + r.status);
    const reader = r.body.getReader();
    (async () => { while (!(await reader.read()).done); })().catch(() => {}); // read (and drop) until aborted
    streams.push(abort);
  };
  for (let i = 0; i < subscribers; i++) await subscribe(topic(i));

  // publishes every 100 ms, round-robin over the subscribers' topics; burst sets how many
  let sent = 0;
  let burst = 1;
  const failed = [];
  publishing = setInterval(() => {
    for (let k = 0; k < burst; k++) {
      const n = sent++;
      fetch(base + '/.well-known/mercure', { method: 'POST', headers: { Authorization: 'Bearer ' + publisherToken },
        body: new URLSearchParams({ topic: topic(n % subscribers), data: JSON.stringify({ n }) }) })
        .then(async (r) => { if (!r.ok) failed.push(r.status); await r.text(); })
        .catch((e) => failed.push(String(e)));
    }
  }, 100);

  await page.waitForFunction(({ n, before, prefix }) => {
    const v = (id) => Number(document.getElementById(id).dataset.value || 0);
    const listed = [...document.querySelectorAll('#subscriptions tr')].map((tr) => tr.firstChild.textContent);
    return v('connections') === before.connections + n && v('publishes') > 0 && v('deliveries') > 0
      && v('history') > before.history && Array.from({ length: n }, (_, i) => prefix + i).every((t) => listed.includes(t));
  }, { n: subscribers, before, prefix: topic('') }, { timeout: 30000 });
  const after = await page.evaluate(read);

  // for the README's picture: traffic that rises and falls, subscribers to every test topic (a URL
  // pattern, match_urlpattern) joining and leaving
  for (let t = 0; t < seconds; t++) {
    burst = 1 + Math.round(4 * (1 + Math.sin(t / 4)));
    if (t % 3 === 0 && t < 40) await subscribe(topic(':n'), 'match_urlpattern');
    if (t > 40 && t % 4 === 0 && streams.length > subscribers) streams.pop().abort();
    await page.waitForTimeout(1000);
  }
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ kind: 'hub-status', refused, addressBar, before, after, failed }));
} finally {
  clearInterval(publishing);
  streams.forEach((abort) => abort.abort());
  await browser.close();
}
