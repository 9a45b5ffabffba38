// Opens the demo page in Debian's headless Chromium and reports, one JSON line each, what the page
// shows and what an EventSource in the page receives from /sse-unicode. Assertions live in the
// Java test (BrowserTest) that starts the server and runs this script.
// usage: node clock-page.mjs BASE_URL SCREENSHOT_PATH
import { launchChromium } from './chromium.mjs';

const [base, screenshot] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error('page console:', m.text()));
  await page.goto(base + '/');
  await page.waitForFunction(() => document.querySelectorAll('#messages li').length >= 3, null, { timeout: 20000 });
  const items = await page.$$eval('#messages li', (els) => els.map((e) => e.textContent));
  const status = await page.textContent('#status');
  console.log(JSON.stringify({ kind: 'page', status, items }));

  const received = await page.evaluate(() => new Promise((resolve, reject) => {
    const source = new EventSource('/sse-unicode');
    const timer = setTimeout(() => reject(new Error('no greeting within 10 s')), 10000);
    source.addEventListener('greeting', (e) => {
      clearTimeout(timer);
      source.close();
      resolve({ type: e.type, data: e.data, lastEventId: e.lastEventId });
    });
  }));
  console.log(JSON.stringify({ kind: 'unicode', ...received }));
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
