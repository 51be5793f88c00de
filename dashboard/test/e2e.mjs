// End to end in headless Chromium against a real ring (run by timenode/tests/dashboard.rs,
// which starts the ring and passes its facts in the environment):
//   DASH_URL      node 0's API (the page under test)
//   DASH_GENESIS  the ring's genesis.json
//   DASH_KILL_PID / DASH_KILL_NAME   a member to SIGKILL (its row must turn down)
//   DASH_SELF_PID node 0's pid (killed last: the page must say the node is down)
//   DASH_CLI      the tickchain CLI (checks the downloaded proof)
//   DASH_VECTORS  specs/vectors
//   DASH_ARTIFACTS where screenshots and the downloaded proof go
// Owns: the browser session and its assertions. Never: waits without a bound; leaves the
// browser running (closed in finally).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const url = env('DASH_URL');
const artifacts = env('DASH_ARTIFACTS');
mkdirSync(artifacts, { recursive: true });

const step = (what) => console.log(`e2e: ${what}`);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  chromiumSandbox: false,
  args: [
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const problems = [];
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const response = await page.goto(url, { waitUntil: 'load' });
  const csp = response.headers()['content-security-policy'] ?? '';
  if (!csp.includes("script-src 'self'") || csp.includes('unsafe-inline')) {
    throw new Error(`the page's CSP is not strict: ${csp}`);
  }

  // The tick counter advances by at least 5 within 20 s.
  await page.waitForFunction(() => Number(document.getElementById('height').dataset.height) > 0, null, { timeout: 10_000 });
  const h0 = Number(await page.getAttribute('#height', 'data-height'));
  await page.waitForFunction((h) => Number(document.getElementById('height').dataset.height) >= h + 5, h0, { timeout: 20_000 });
  step(`ticks advanced from ${h0} by at least 5`);

  // Both charts have data points.
  await page.waitForFunction(
    () => Number(document.getElementById('lag-chart').dataset.points) > 0 && Number(document.getElementById('clock-chart').dataset.points) > 0,
    null,
    { timeout: 15_000 },
  );
  const points = await page.evaluate(() => [document.getElementById('lag-chart').dataset.points, document.getElementById('clock-chart').dataset.points]);
  step(`lag chart ${points[0]} points, clock chart ${points[1]} points`);
  if ((await page.getAttribute('#state', 'data-state')) !== 'ok') throw new Error('the page does not show the node synchronised');
  await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });

  // A killed member turns down within 15 s.
  const name = env('DASH_KILL_NAME');
  const row = `#ring tr[data-member="${name}"]`;
  if ((await page.getAttribute(row, 'data-state')) !== 'up') throw new Error(`${name} is not up before the kill`);
  process.kill(Number(env('DASH_KILL_PID')), 'SIGKILL');
  const killedAt = Date.now();
  await page.waitForSelector(`${row}[data-state="down"]`, { timeout: 15_000 });
  step(`${name} shown down ${((Date.now() - killedAt) / 1000).toFixed(1)} s after SIGKILL`);
  await page.screenshot({ path: join(artifacts, 'member-down.png'), fullPage: true });

  // Stamping a file yields a proof that tickchain verify --file accepts.
  const doc = join(artifacts, 'stamped.txt');
  writeFileSync(doc, `stamped from the dashboard at ${new Date().toISOString()}\n`);
  await page.setInputFiles('#stamp-file', doc);
  await page.waitForSelector('#stamp-download:not([hidden])', { timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#stamp-download')]);
  const proof = join(artifacts, 'stamped.txt.tcproof');
  await download.saveAs(proof);
  const verified = execFileSync(env('DASH_CLI'), ['verify', proof, '--genesis', env('DASH_GENESIS'), '--file', doc], { encoding: 'utf8' });
  step(`the downloaded proof verifies with the CLI: ${verified.split('\n')[0]}`);
  // Intake: the stamped digest shows in the accepted rate; this ring does not anchor.
  await page.waitForFunction(() => Number(document.getElementById('rate').dataset.rate) > 0, null, { timeout: 10_000 });
  const note = await page.textContent('#anchors-note');
  if (!note.includes('does not anchor')) throw new Error(`anchoring panel: ${note}`);
  step(`intake rate ${await page.textContent('#rate')} digests/s; anchoring: ${note}`);

  // Verified in the page: a valid vector shows OK, a tampered one FAILED with its code.
  const vectors = env('DASH_VECTORS');
  await page.setInputFiles('#verify-genesis', join(vectors, 'genesis-4.json'));
  await page.setInputFiles('#verify-proof', join(vectors, 'proofs/valid-3of4.tcproof'));
  await page.waitForSelector('#verify-result[data-outcome="ok"]', { timeout: 10_000 });
  await page.setInputFiles('#verify-proof', join(vectors, 'proofs/wrong-salt.tcproof'));
  await page.waitForSelector('#verify-result[data-outcome="failed"][data-code="batch_inclusion"]', { timeout: 10_000 });
  step('valid vector OK, tampered vector FAILED batch_inclusion');
  // Our own stamped proof and document, against this node's genesis (none given).
  await page.setInputFiles('#verify-genesis', []);
  await page.setInputFiles('#verify-document', doc);
  await page.setInputFiles('#verify-proof', proof);
  await page.waitForSelector('#verify-result[data-outcome="ok"]', { timeout: 10_000 });
  await page.screenshot({ path: join(artifacts, 'verify.png'), fullPage: true });

  // Readable on a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) throw new Error(`the page is ${overflow} px wider than a phone screen`);
  await page.screenshot({ path: join(artifacts, 'phone.png'), fullPage: true });

  // The page's own node stops: a clear state.
  process.kill(Number(env('DASH_SELF_PID')), 'SIGKILL');
  await page.waitForSelector('#state[data-state="down"]', { timeout: 10_000 });
  await page.screenshot({ path: join(artifacts, 'node-down.png'), fullPage: true });
  step('node down shown');
  if (problems.length > 0) throw new Error(`browser errors:\n${problems.join('\n')}`);
  console.log('e2e: all passed');
} finally {
  await browser.close();
}
