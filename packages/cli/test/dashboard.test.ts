import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { children, spawnL8, stop, tempDir } from './cli-kit.ts';

/** Debian's chromium (`.ci/run` installs it when missing): without it this test fails, it never skips. */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
/** Every node of the demo: its two VNets, the four service processes and the gateway. */
const NODES = ['demo-v1', 'demo-v2', 'orders-1', 'orders-2', 'seats-1', 'seats-2', 'gateway'];
const WAIT_MS = 30_000;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What the demo printed that the test uses. */
interface Printed {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  /** `Service on vnet` → pid. */
  readonly pids: ReadonlyMap<string, number>;
}

function parse(out: string): Printed {
  const m = /dashboard: (http:\/\/\S+)\/dashboard \(log in as (\S+), password (\S+)\)/.exec(out);
  assert.ok(m, `the demo prints the dashboard and its login:\n${out}`);
  const pids = new Map(
    [...out.matchAll(/(\w+) on (\S+) runs as pid (\d+)/g)].map((p) => [`${p[1]} on ${p[2]}`, Number(p[3])]),
  );
  return { url: m[1] as string, user: m[2] as string, password: m[3] as string, pids };
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe('the dashboard of a running demo, in Debian chromium', () => {
  const dir = tempDir('l8-dashboard-');
  let printed: Printed;
  let browser: Browser | undefined;
  let page: Page;
  /** Errors of the page: uncaught exceptions and console errors (CSP violations among them). */
  const pageErrors: string[] = [];

  before(async () => {
    const started = await spawnL8(['demo', '--data', join(dir, 'demo'), '--gateway-port', '0'], /l8 demo ready/);
    printed = parse(started.match.input ?? '');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  });

  after(async () => {
    await browser?.close();
    // the demo (and with it its service processes), even when it never printed that it was ready
    await Promise.all(children.map((c) => stop(c)));
    for (const pid of printed?.pids.values() ?? []) kill(pid);
  });

  test('log in, every node, a killed service goes down, an entity change arrives live, a screenshot', {
    timeout: 150_000,
  }, async () => {
    const { url, user, password, pids } = printed;
    await page.goto(`${url}/dashboard`);
    await page.locator('#login').waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.fill('#login input[name=user]', user);
    await page.fill('#login input[name=password]', password);
    await page.click('#login button[type=submit]');
    await page.locator('#board').waitFor({ state: 'visible', timeout: WAIT_MS });

    for (const alias of NODES) {
      await page.locator(`#nodes tr[data-alias="${alias}"][data-status="up"]`).waitFor({ timeout: WAIT_MS });
      await page.locator(`#topology g[data-alias="${alias}"]`).waitFor({ timeout: WAIT_MS });
    }
    assert.equal(await page.locator('#topology g.hub').count(), 2, 'the two VNets are hubs');
    assert.match((await page.locator('#services').textContent()) ?? '', /Orders.*orders-1.*orders-2/s);

    // an entity change made through the gateway's REST shows in the entities panel
    await page.locator('#entities tr[data-key="1"]').waitFor({ timeout: WAIT_MS });
    const order = { id: '7', number: 'A-7', customerId: 'c1', status: 'STATUS_OPEN', city: 'Tromsø' };
    const session = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password }),
    });
    const { accessToken } = (await session.json()) as { accessToken: string };
    const posted = await fetch(`${url}/l8/0/Orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify(order),
    });
    assert.equal(posted.status, 201, await posted.text());
    const row = page.locator('#entities tr[data-key="7"]');
    await row.waitFor({ timeout: WAIT_MS });
    assert.match((await row.textContent()) ?? '', /Tromsø/);
    await page.locator('#entity-log li[data-key="7"]').waitFor({ timeout: WAIT_MS });

    // a service process killed: the page shows its node down (unreachable, then gone)
    const pid = pids.get('Orders on demo-v2');
    assert.ok(pid !== undefined, 'the demo prints the pid of each service process');
    kill(pid);
    await page.locator('#nodes tr[data-alias="orders-2"]:not([data-status="up"])').waitFor({ timeout: WAIT_MS });
    await page.locator('#topology g[data-alias="orders-2"]:not(.up)').waitFor({ timeout: WAIT_MS });
    await page.locator('#events li', { hasText: 'orders-2' }).first().waitFor({ timeout: WAIT_MS });

    const shot = join(dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual(readFileSync(shot).subarray(0, 8), PNG, `${shot} is a PNG`);
    assert.deepEqual(pageErrors, [], 'no script error and no CSP violation in the page');
  });
});
