// Opens COUNT EventSources from one page to the hub over HTTPS (a self-signed test certificate, so
// Chromium runs with --ignore-certificate-errors) and waits until each has received one event. The
// page is the hub's /healthz, so the streams are same-origin. A CDP session records the protocol
// of every EventSource response. The Java test (HubHttpsBrowserTest) sees the streams on the hub's
// /metrics and publishes one event per topic. Prints one JSON line: the data each stream received
// and the protocol of each EventSource response.
// usage: node hub-https.mjs BASE_URL COUNT TOPIC_PREFIX
import { launchChromium } from './chromium.mjs';

const [base, countArg, prefix] = process.argv.slice(2);
const count = Number(countArg);
const browser = await launchChromium(['--ignore-certificate-errors']);
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error('page console:', m.text()));
  const cdp = await page.context().newCDPSession(page);
  const protocols = [];
  cdp.on('Network.responseReceived', (e) => {
    if (e.type === 'EventSource') {
      protocols.push({ url: e.response.url, protocol: e.response.protocol, status: e.response.status });
    }
  });
  await cdp.send('Network.enable');
  await page.goto(base + '/healthz');
  await page.evaluate(({ base, count, prefix }) => {
    window.opened = 0;
    window.received = new Array(count).fill(null);
    for (let i = 0; i < count; i++) {
      const es = new EventSource(base + '/.well-known/mercure?match=' + encodeURIComponent(prefix + i));
      es.onopen = () => { window.opened++; };
      es.onmessage = (m) => { window.received[i] = m.data; };
    }
  }, { base, count, prefix });
  await page.waitForFunction((n) => window.opened === n, count, { timeout: 30000 });
  console.log('hub-https: open');
  await page.waitForFunction(() => window.received.every((d) => d !== null), null, { timeout: 30000 });
  const received = await page.evaluate(() => window.received);
  console.log(JSON.stringify({ kind: 'hub-https', received, protocols }));
} finally {
  await browser.close();
}
