import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { BacktestReport } from '../../src/backtest/report.js';
import { ev } from '../support/events.js';
import { fairuse, ROOT } from '../support/cli.js';

const PACK = join(ROOT, 'rules');
const HOSTILE_ID = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'fairuse-backtest-'));
}

/** Scripts, a scraper, a device farm, an IP farm (shadow), people; plus bad, duplicate and late lines. */
function history(): { events: string; labels: string } {
  const out: Array<{ ts: number; line: string }> = [];
  const add = (e: ReturnType<typeof ev>) => out.push({ ts: e.ts, line: JSON.stringify(e.event) });
  for (let i = 0; i < 2880; i++) add(ev(i * 30, { accountId: 'bot-1', deviceId: 'd-bot', requestId: `b${i}` }));
  for (let i = 0; i < 2880; i++) add(ev(i * 30 + 20, { accountId: 'bot-1', deviceId: 'd-bot', requestId: `b${i}`, type: 'generation.completed' }));
  for (let i = 0; i < 300; i++) add(ev(40_000 + i * 4, { accountId: HOSTILE_ID, deviceId: 'd-evil', requestId: `h${i}` }));
  for (let i = 0; i < 25; i++) add(ev(3600 + i * 2.5, { accountId: 'scraper-1', deviceId: 'd-s', requestId: `s${i}` })); // 25 in a minute
  for (let i = 0; i < 6; i++) add(ev(7200 + i * 600, { accountId: `farm-${i}`, deviceId: 'd-farm' }));
  for (let i = 0; i < 26; i++) add(ev(10_000 + i * 60, { accountId: `office-${i}`, deviceId: `d-o${i}`, ip: '203.0.113.99' }));
  for (const [k, s] of [100, 5000, 20_000, 60_000].entries()) add(ev(s, { accountId: 'human-1', deviceId: 'd-h', requestId: `p${k}` }));
  out.sort((a, b) => a.ts - b.ts);
  const lines = out.map((o) => o.line);
  lines.splice(100, 0, lines[99]!, 'not json', '{"eventId":"x"}', 'x'.repeat(20_000), '');
  lines.push(JSON.stringify(ev(0, { accountId: 'late-1' }).event)); // a day behind the newest: late
  const label = (accountId: string, persona: string, abusive: boolean) => JSON.stringify({ accountId, persona, abusive });
  const labels = [
    label('bot-1', 'automation', true),
    label(HOSTILE_ID, 'automation', true),
    label('scraper-1', 'scraper', true),
    ...Array.from({ length: 6 }, (_, i) => label(`farm-${i}`, 'account-farm', true)),
    ...Array.from({ length: 26 }, (_, i) => label(`office-${i}`, 'office', false)),
    label('human-1', 'casual', false),
  ];
  return { events: `${lines.join('\n')}\n`, labels: `${labels.join('\n')}\n` };
}

/** A copy of the pack where one file's text is changed. */
async function variant(file: string, change: (text: string) => string): Promise<string> {
  const dir = await tempDir();
  for (const f of await readdir(PACK)) if (f.endsWith('.yaml')) await copyFile(join(PACK, f), join(dir, f));
  await writeFile(join(dir, file), change(await readFile(join(dir, file), 'utf8')));
  return dir;
}

/** Candidate: a burst threshold of 20 (catches scraper-1) and the device-farm rule off (lets the farm go). */
async function candidateRules(): Promise<string> {
  const lowered = await variant('scraping.yaml', (t) => t.replace('threshold: 30', 'threshold: 20'));
  const farms = await readFile(join(lowered, 'farms.yaml'), 'utf8');
  await writeFile(join(lowered, 'farms.yaml'), farms.replace('mode: enforce', 'mode: off'));
  return lowered;
}

async function workspace() {
  const dir = await tempDir();
  const { events, labels } = history();
  await writeFile(join(dir, 'events.ndjson'), events);
  await writeFile(join(dir, 'labels.ndjson'), labels);
  return { dir, events: join(dir, 'events.ndjson'), labels: join(dir, 'labels.ndjson') };
}

describe('fairuse backtest', () => {
  it('agrees exactly with `fairuse run` on the same input, for the candidate and the baseline', async () => {
    const w = await workspace();
    const candidate = await candidateRules();
    const bt = await fairuse(['backtest', '-i', w.events, '-r', candidate, '-b', PACK, '--report', join(w.dir, 'r.html'), '--json', join(w.dir, 'r.json')]);
    expect(bt.stderr).toBe(''); // no progress meter when stderr is not a terminal
    expect(bt.code).toBe(0);
    const report = JSON.parse(await readFile(join(w.dir, 'r.json'), 'utf8')) as BacktestReport;
    for (const [side, rules] of [['candidate', candidate], ['baseline', PACK]] as const) {
      const run = await fairuse(['run', '-i', w.events, '-o', join(w.dir, side), '-r', rules, '-p', join(rules, 'policy.yaml'), '--json']);
      expect(run.code).toBe(0);
      const { commands: _c, seconds: _s, eventsPerSecond: _e, ...summary } = JSON.parse(run.stdout);
      expect(report[side]!.summary).toEqual(summary);
      const strikes = (await readFile(join(w.dir, side, 'strikes.ndjson'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const flagged = new Set(strikes.map((s: { accountId: string }) => s.accountId));
      expect(report[side]!.flagged).toBe(flagged.size);
    }
    expect(report.candidate.summary).toMatchObject({ bad: { 'not-json': 1, schema: 1, oversized: 1 }, duplicates: 1, late: 1 });
    // 25 office accounts at the 25th, then the 26th alone (the others are in their cooldown).
    expect(report.candidate.summary.shadowStrikesByRule['farm-shared-ip']).toBe(26);
  });

  it('shows what changes against the baseline: newly flagged, no longer flagged, changed rules', async () => {
    const w = await workspace();
    const r = await fairuse(['backtest', '-i', w.events, '-r', await candidateRules(), '-b', PACK, '--report', join(w.dir, 'r.html'), '--json', join(w.dir, 'r.json')]);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(w.dir, 'r.json'), 'utf8')) as BacktestReport;
    expect(report.diff!.newlyFlagged).toEqual(['scraper-1']);
    expect(report.diff!.noLongerFlagged).toEqual(['farm-0', 'farm-1', 'farm-2', 'farm-3', 'farm-4', 'farm-5']);
    expect(report.diff!.rules.filter((x) => x.change !== 'unchanged').map((x) => `${x.rule} ${x.baselineMode}→${x.candidateMode}`)).toEqual(['farm-shared-device enforce→off', 'scraping-burst-velocity enforce→enforce']);
    expect(r.stdout).toMatch(/vs baseline: 1 newly flagged, 6 no longer flagged/);
    // Per-rule series cover the same buckets on both sides and add up to the strike counts.
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (const side of [report.candidate, report.baseline!]) {
      for (const [rule, series] of Object.entries(side.series)) {
        expect(series).toHaveLength(report.buckets.length);
        expect(sum(series), rule).toBe((side.summary.strikesByRule[rule] ?? 0) + (side.summary.shadowStrikesByRule[rule] ?? 0));
      }
    }
    expect(report.topOffenders[0]).toMatchObject({ account: 'bot-1', status: 'suspended' });
  });

  it('scores precision and recall against labels, overall and per rule', async () => {
    const w = await workspace();
    const r = await fairuse(['backtest', '-i', w.events, '-r', PACK, '-l', w.labels, '--report', join(w.dir, 'r.html'), '--json', join(w.dir, 'r.json')]);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(w.dir, 'r.json'), 'utf8')) as BacktestReport;
    // Flagged: bot-1, the hostile script, the six farm accounts. Missed: scraper-1 (25 < 30).
    expect(report.candidate.evaluation).toMatchObject({ truePositives: 8, falsePositives: 0, falseNegatives: 1, trueNegatives: 27, precision: 1 });
    expect(report.candidate.evaluation!.recall).toBeCloseTo(8 / 9);
    // Enforcing the shadow IP rule would flag the office: precision drops.
    expect(report.candidate.evaluationWithShadow).toMatchObject({ truePositives: 8, falsePositives: 26 });
    expect(report.candidate.perRule.find((x) => x.rule === 'farm-shared-ip')).toMatchObject({ accounts: 26, abusive: 0, human: 26, precision: 0 });
    expect(r.stdout).toMatch(/precision 100\.0%\s+recall 88\.9%/);
    expect(report.baseline).toBeUndefined();
  });
});

describe('progress', () => {
  it('is drawn on a terminal for a long input (and not otherwise, see above)', async () => {
    const w = await workspace();
    const line = JSON.stringify(ev(0, { accountId: 'p' }).event);
    // 80k duplicates of one event: cheap to write, and long enough to outlast the meter's half-second redraw interval.
    await writeFile(w.events, `${line}\n`.repeat(80_000));
    const cli = join(ROOT, 'dist', 'cli', 'main.js');
    const command = `${process.execPath} ${cli} backtest -i ${w.events} -r ${PACK} --report ${join(w.dir, 'r.html')}`;
    // util-linux `script` runs the command on a pseudo-terminal, as a person at a shell would.
    const out = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
    expect(out).toMatch(/\r[\d,]+ events +[\d,]+\/s +strikes \d+ +transitions \d+/);
    expect(out).toMatch(/wrote /);
  });
});

describe('fairuse backtest input errors', () => {
  it.each([
    [['--report', 'x.html'], /required option '-i, --input <file>'/],
    [['-i', 'x.ndjson', '-r', 'rules'], /required option '--report <file>'/],
    [['-i', 'x.ndjson', '-r', 'rules', '--report', 'r.html', '--frobnicate'], /unknown option '--frobnicate'/],
  ])('usage errors exit 2: %j', async (args, message) => {
    const r = await fairuse(['backtest', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses to write the report over the input or the labels, or both reports to one file; nothing is lost', async () => {
    const w = await workspace();
    const before = await readFile(w.events, 'utf8');
    await symlink(w.events, join(w.dir, 'link.html'));
    for (const args of [
      ['--report', w.events],
      ['--report', join(w.dir, 'link.html')],
      ['--report', join(w.dir, 'r.html'), '--json', w.labels],
      ['--report', join(w.dir, 'same'), '--json', join(w.dir, '.', 'same')],
    ]) {
      const r = await fairuse(['backtest', '-i', w.events, '-r', PACK, '-l', w.labels, ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^fairuse: refusing to write .* it is the same file as /);
    }
    expect(await readFile(w.events, 'utf8')).toBe(before);
    expect((await readdir(w.dir)).sort()).toEqual(['events.ndjson', 'labels.ndjson', 'link.html']);
  });

  it('checks the output directory before the (long) run', async () => {
    const w = await workspace();
    const r = await fairuse(['backtest', '-i', w.events, '-r', PACK, '--report', '/nonexistent/dir/r.html']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fairuse: cannot write \/nonexistent\/dir\/r\.html: \/nonexistent\/dir is not a directory/);
    const isDir = await fairuse(['backtest', '-i', w.events, '-r', PACK, '--report', w.dir]);
    expect(isDir.code).toBe(1);
    expect(isDir.stderr).toMatch(/it is a directory/);
  });

  it('a bad labels line names the file and line; exit 1, no report written', async () => {
    const w = await workspace();
    await writeFile(w.labels, '{"accountId":"a","persona":"casual","abusive":false}\n{"accountId":"b","persona":"wizard","abusive":true}\n');
    const r = await fairuse(['backtest', '-i', w.events, '-r', PACK, '-l', w.labels, '--report', join(w.dir, 'r.html')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fairuse: .*labels\.ndjson:2: not a label/);
    await expect(stat(join(w.dir, 'r.html'))).rejects.toThrow();
  });

  it('a broken --policy file is reported with file:line:column; exit 1', async () => {
    const w = await workspace();
    const policy = join(w.dir, 'policy.yaml');
    await writeFile(policy, (await readFile(join(PACK, 'policy.yaml'), 'utf8')).replace('pauseAt: 10 ', 'pauseAt: ten'));
    const r = await fairuse(['backtest', '-i', w.events, '-r', PACK, '-p', policy, '--report', join(w.dir, 'r.html')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/policy\.yaml:\d+:12: error \[type\] Invalid input: expected number, received string \(at enforcement\.pauseAt\)\n/);
  });

  it('an input of nothing but garbage still gives a report (exit 0) that says so', async () => {
    const w = await workspace();
    await writeFile(w.events, `not json\n{"eventId":1}\n\n${'\u0000'.repeat(100)}\n`);
    const r = await fairuse(['backtest', '-i', w.events, '-r', PACK, '-b', PACK, '--report', join(w.dir, 'r.html'), '--json', join(w.dir, 'r.json')]);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(w.dir, 'r.json'), 'utf8')) as BacktestReport;
    expect(report).toMatchObject({ from: null, to: null, buckets: [], candidate: { summary: { lines: 3, accepted: 0, bad: { 'not-json': 2, schema: 1 } } } });
    expect(await readFile(join(w.dir, 'r.html'), 'utf8')).toContain('no valid events');
  });

  it('a missing input, or a broken rule directory: exit 1 with a clear message', async () => {
    const w = await workspace();
    const missing = await fairuse(['backtest', '-i', join(w.dir, 'nope.ndjson'), '-r', PACK, '--report', join(w.dir, 'r.html')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^fairuse: ENOENT/);
    const broken = await variant('scraping.yaml', (t) => t.replace('window: 1m', 'window: one minute'));
    const r = await fairuse(['backtest', '-i', w.events, '-r', PACK, '-b', broken, '--report', join(w.dir, 'r.html')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/scraping\.yaml:\d+:17: error \[duration\] invalid duration "one minute"/);
    await expect(stat(join(w.dir, 'r.html'))).rejects.toThrow();
  });
});

describe('the HTML report in a real browser (Debian chromium)', () => {
  it('renders every chart with its data points, shows hostile ids as text, runs no script, fetches nothing', async () => {
    const w = await workspace();
    const html = join(w.dir, 'report.html');
    const r = await fairuse(['backtest', '-i', w.events, '-r', await candidateRules(), '-b', PACK, '-l', w.labels, '--report', html, '--json', join(w.dir, 'r.json')]);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(w.dir, 'r.json'), 'utf8')) as BacktestReport;

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      let dialogs = 0;
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (q) => requests.push(q.url()));
      page.on('dialog', (d) => {
        dialogs++;
        void d.dismiss();
      });
      await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });

      // One chart for all rules plus one per rule of either side, each a candidate and a baseline series.
      const charts = page.locator('figure.chart');
      expect(await charts.count()).toBe(1 + Object.keys(report.candidate.series).length);
      for (let i = 0; i < (await charts.count()); i++) {
        const chart = charts.nth(i);
        const box = await chart.locator('svg').boundingBox();
        expect(box!.width).toBeGreaterThan(300);
        expect(box!.height).toBeGreaterThan(100);
        expect(await chart.locator('circle.pt.candidate').count()).toBe(report.buckets.length);
        expect(await chart.locator('circle.pt.baseline').count()).toBe(report.buckets.length);
        expect((await chart.locator('polyline.candidate').getAttribute('points'))!.split(' ')).toHaveLength(report.buckets.length);
      }
      // The points carry the report's numbers.
      const plotted = await page
        .locator('figure.chart[data-rule="scraping-burst-velocity"] circle.pt.candidate')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      expect(plotted).toEqual(report.candidate.series['scraping-burst-velocity']);
      expect(plotted.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

      // The hostile account id is shown as text and did nothing.
      await expect(page.locator('#offenders td code', { hasText: HOSTILE_ID }).count()).resolves.toBe(1);
      expect(await page.title()).toBe('fairuse backtest');
      expect(await page.locator('script, img').count()).toBe(0);
      expect(dialogs).toBe(0);
      await expect(page.locator('#flagged .newly li').allTextContents()).resolves.toEqual(['scraper-1']);
      await expect(page.locator('#accuracy').textContent()).resolves.toMatch(/precision/);

      const shots = await mkdtemp(join(tmpdir(), 'fairuse-report-shot-'));
      await page.screenshot({ path: join(shots, 'report.png'), fullPage: true });
      expect((await stat(join(shots, 'report.png'))).size).toBeGreaterThan(20_000);

      expect(errors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(html).href]);
    } finally {
      await browser.close();
    }
  });
});
