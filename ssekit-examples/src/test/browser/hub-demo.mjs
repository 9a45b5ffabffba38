// Drives the hub's demo page in Debian's headless Chromium: subscribe, publish from the page's form,
// wait for the event to show up in the page's list. Prints one JSON line with what the page shows;
// the Java test (HubDemoBrowserTest) starts the hub, runs this and asserts.
// usage: node hub-demo.mjs BASE_URL SCREENSHOT_PATH DATA
import { launchChromium } from './chromium.mjs';

const [base, screenshot, data] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error('page console:', m.text()));
  await page.goto(base + '/');
  await page.fill('#sub-topic', 'https://example.com/books/{id}');
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
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ kind: 'hub-demo', status, published, items }));
} finally {
  await browser.close();
}
