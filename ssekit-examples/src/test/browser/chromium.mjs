// Launches Debian's headless Chromium (never a downloaded browser) with the flags every browser
// test uses, and any extra ones a test needs (e.g. --ignore-certificate-errors). CHROMIUM overrides
// the path.
import { chromium } from 'playwright-core';

export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}
