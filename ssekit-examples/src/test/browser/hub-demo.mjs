// Drives the hub's demo page in Debian's headless Chromium, as Mercure 1.0: one page subscribes
// anonymously with a URL pattern (match_urlpattern, an :id group), publishes from the page's form
// and waits for the event in its list. A second page subscribes with the printed subscriber token
// (read with fetch and an Authorization header) to every topic (match=*); when the first page
// subscribes again, the hub's subscription event for it must show up in the second page. The page's
// rendering of a subscription event in the spec's shape (draft-dunglas-mercure-08 L1042-1061) is
// checked with the spec's example. Prints one JSON line with what the pages show; the Java test
// (HubDemoBrowserTest) starts the hub, runs this and asserts.
// usage: node hub-demo.mjs BASE_URL SCREENSHOT_PATH DATA SUBSCRIBER_TOKEN
import { launchChromium } from './chromium.mjs';

const [base, screenshot, data, subscriberToken] = process.argv.slice(2);
const PATTERN = 'https://example.com/books/:id';
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error('page console:', m.text()));
  await page.goto(base + '/');
  await page.fill('#sub-match', '');
  await page.fill('#sub-urlpattern', PATTERN);
  await page.click('#subscribe');
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'open', null, { timeout: 20000 });
  await page.fill('#pub-topic', 'https://example.com/books/7');
  await page.fill('#pub-data', data);
  await page.click('#publish');
  await page.waitForFunction((d) => [...document.querySelectorAll('#events li')].some((li) => li.textContent.includes(d)),
    data, { timeout: 20000 });
  // the event and the answer to the page's POST race each other: wait for the answer too
  await page.waitForFunction(() => document.querySelector('#published').textContent !== '-', null,
    { timeout: 20000 });
  const published = await page.textContent('#published');
  const items = await page.$$eval('#events li', (els) => els.map((e) => e.textContent));
  const status = await page.textContent('#status');

  // a watcher with the subscriber token: private updates and subscription events
  const watcher = await browser.newPage();
  watcher.on('console', (m) => console.error('watcher console:', m.text()));
  await watcher.goto(base + '/');
  await watcher.fill('#sub-match', '*');
  await watcher.fill('#sub-urlpattern', '');
  await watcher.fill('#sub-token', subscriberToken);
  await watcher.click('#subscribe');
  await watcher.waitForFunction(() => document.querySelector('#status').textContent === 'open', null, { timeout: 20000 });
  await page.click('#subscribe'); // a new subscription: the hub announces it
  await watcher.waitForFunction((p) => [...document.querySelectorAll('#events li')].some((li) => li.textContent.includes(p)),
    PATTERN, { timeout: 20000 });
  const watched = await watcher.$$eval('#events li', (els) => els.map((e) => e.textContent));
  const watcherStatus = await watcher.textContent('#status');

  // the spec's example subscription event, through the page's own rendering of event: mercure
  const example = {
    id: '/.well-known/mercure/subscriptions/urlpattern/https%3A%2F%2Fexample.com%2Fbooks%2F%3Aid/urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6',
    type: 'subscription', match_type: 'urlpattern', match: PATTERN,
    subscriber: 'urn:uuid:bb3de268-05b0-4c65-b44e-8f9acefc29d6', active: true, payload: { foo: 'bar' },
  };
  const rendered = await watcher.evaluate((e) => {
    window.showEvent({ type: 'mercure', data: JSON.stringify(e), lastEventId: 'urn:uuid:1' });
    const li = document.querySelector('#events li');
    return { text: li.textContent, className: li.className };
  }, example);

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ kind: 'hub-demo', status, published, items, watcherStatus, watched, rendered }));
} finally {
  await browser.close();
}
