import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll } from 'vitest';
import { findBrowser, hasTool } from './optional-tools.ts';

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  browser = undefined;
});

/** A page of a local file in a headless Chromium, with its console errors and any network request it made. */
export interface OpenedPage {
  page: Page;
  errors: string[];
  requests: string[];
}

/**
 * Skips the calling test where no browser is here, saying so in one line (optional-tools.ts;
 * under SOCKSTORM_TEST_ALL=1 it fails instead): call it first, before a test spends time on a run.
 */
export function needBrowser(context: { skip: (note?: string) => never }, what: string): void {
  if (!hasTool('browser', what)) context.skip(`no browser for ${what}`);
}

/** Opens `file` (an absolute path). */
export async function openInChromium(file: string, what: string): Promise<OpenedPage> {
  const executablePath = findBrowser();
  if (executablePath === null) throw new Error(`no browser for ${what}: call needBrowser first`);
  browser ??= await puppeteer.launch({ executablePath, args: ['--no-sandbox', '--headless=new'] });
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
