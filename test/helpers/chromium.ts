import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  browser = undefined;
});

/** A page of a local file in Debian's headless chromium, with its console errors and any network request it made. */
export interface OpenedPage {
  page: Page;
  errors: string[];
  requests: string[];
}

/** Fails, never skips, where chromium is missing: call it first, before a test spends time on a run. */
export function requireChromium(what: string): void {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: ${what} needs Debian's chromium (apt-get install chromium)`);
}

/** Opens `file` (an absolute path). */
export async function openInChromium(file: string, what: string): Promise<OpenedPage> {
  requireChromium(what);
  browser ??= await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, errors, requests };
}
