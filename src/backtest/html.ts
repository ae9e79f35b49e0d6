import type { Evaluation } from '../simulate/labels.js';
import { formatDuration } from '../time/duration.js';
import { esc } from './html-escape.js';
import type { BacktestReport, SideFigures } from './report.js';
import { lineChart, type Series } from './svg.js';

/** Accounts listed per flagged-diff column; the JSON report has them all. */
const MAX_LISTED = 200;

const num = (n: number) => n.toLocaleString('en-US');
const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(1)}%`);
const signed = (n: number) => (n > 0 ? `+${num(n)}` : num(n));
const total = (byRule: Record<string, number>) => Object.values(byRule).reduce((a, b) => a + b, 0);

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, cls = ''): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  // Cells arrive escaped (some carry markup such as a class for a delta), so they are not escaped again here.
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function delta(now: number, before: number | undefined): string {
  if (before === undefined) return '';
  const d = now - before;
  return `<span class="${d > 0 ? 'up' : d < 0 ? 'down' : 'same'}">${esc(signed(d))}</span>`;
}

function summary(r: BacktestReport): string {
  const c = r.candidate;
  const b = r.baseline;
  const row = (label: string, pick: (s: SideFigures) => number) => [esc(label), esc(num(pick(c))), ...(b ? [esc(num(pick(b))), delta(pick(c), pick(b))] : [])];
  const bad = (s: SideFigures) => s.summary.bad.oversized + s.summary.bad['not-json'] + s.summary.bad.schema;
  return table(
    ['', 'candidate', ...(b ? ['baseline', 'Δ'] : [])],
    [
      row('events read', (s) => s.summary.lines),
      row('accepted', (s) => s.summary.accepted),
      row('bad lines', bad),
      row('duplicates', (s) => s.summary.duplicates),
      row('late', (s) => s.summary.late),
      row('enforced strikes', (s) => total(s.summary.strikesByRule)),
      row('shadow strikes', (s) => total(s.summary.shadowStrikesByRule)),
      row('accounts flagged (enforced)', (s) => s.flagged),
      row('accounts only shadow-flagged', (s) => s.shadowOnlyFlagged),
      row('accounts paused', (s) => s.summary.accounts.paused),
      row('accounts suspended', (s) => s.summary.accounts.suspended),
      row('transitions', (s) => s.summary.transitions),
    ],
    'summary',
  );
}

function perRule(r: BacktestReport): string {
  const before = new Map((r.baseline?.perRule ?? []).map((x) => [x.rule, x]));
  const labelled = r.candidate.evaluation !== undefined;
  const rules = [...new Set([...r.candidate.perRule.map((x) => x.rule), ...before.keys()])].sort();
  const now = new Map(r.candidate.perRule.map((x) => [x.rule, x]));
  const rows = rules.map((id) => {
    const x = now.get(id);
    const y = before.get(id);
    const strikes = (f: typeof x) => (f ? f.strikes + f.shadowStrikes : 0);
    return [
      `<code>${esc(id)}</code>`,
      esc(x?.mode ?? 'removed'),
      esc(num(strikes(x))),
      ...(r.baseline ? [esc(num(strikes(y))), delta(strikes(x), y ? strikes(y) : 0)] : []),
      esc(num(x?.accounts ?? 0)),
      ...(labelled ? [esc(pct(x?.precision))] : []),
    ];
  });
  return table(['rule', 'mode', 'strikes', ...(r.baseline ? ['baseline', 'Δ'] : []), 'accounts', ...(labelled ? ['precision'] : [])], rows, 'rules');
}

function charts(r: BacktestReport): string {
  const ids = [...new Set([...Object.keys(r.candidate.series), ...Object.keys(r.baseline?.series ?? {})])].sort();
  const sum = (series: Record<string, number[]>) => r.buckets.map((_, i) => Object.values(series).reduce((a, v) => a + (v[i] ?? 0), 0));
  const chart = (title: string, pick: (s: SideFigures) => readonly number[] | undefined) => {
    const series: Series[] = [{ name: 'candidate', values: pick(r.candidate) ?? r.buckets.map(() => 0), kind: 'candidate' }];
    if (r.baseline) series.push({ name: 'baseline', values: pick(r.baseline) ?? r.buckets.map(() => 0), kind: 'baseline' });
    return `<figure class="chart" data-rule="${esc(title)}"><figcaption>${esc(title)}</figcaption>${lineChart(`strikes over time: ${title}`, r.buckets, series)}</figure>`;
  };
  return [chart('all rules', (s) => sum(s.series)), ...ids.map((id) => chart(id, (s) => s.series[id]))].join('');
}

function accountList(title: string, ids: readonly string[], cls: string): string {
  const shown = ids.slice(0, MAX_LISTED).map((a) => `<li><code>${esc(a)}</code></li>`).join('');
  const more = ids.length > MAX_LISTED ? `<li>… ${esc(num(ids.length - MAX_LISTED))} more (see the JSON report)</li>` : '';
  return `<div class="${cls}"><h3>${esc(title)} (${esc(num(ids.length))})</h3><ul>${shown || '<li>none</li>'}${more}</ul></div>`;
}

function offenders(r: BacktestReport): string {
  const labelled = r.candidate.evaluation !== undefined;
  const rows = r.topOffenders.map((o) => [
    `<code>${esc(o.account)}</code>`,
    esc(num(o.points)),
    esc(num(o.strikes)),
    esc(num(o.shadowStrikes)),
    esc(o.status),
    esc(o.firstStrike),
    o.rules.map((x) => `<code>${esc(x)}</code>`).join(' '),
    ...(labelled ? [esc(o.persona ? `${o.persona}${o.abusive ? ' (abusive)' : ' (human)'}` : 'unlabelled')] : []),
  ]);
  return table(['account', 'points', 'strikes', 'shadow', 'status', 'first strike', 'rules', ...(labelled ? ['label'] : [])], rows, 'offenders');
}

function evaluation(r: BacktestReport): string {
  const c = r.candidate;
  if (!c.evaluation) return '';
  const sides: Array<[string, Evaluation | undefined]> = [
    ['candidate', c.evaluation],
    ['candidate, shadow rules enforced', c.evaluationWithShadow],
    ...(r.baseline ? ([['baseline', r.baseline.evaluation], ['baseline, shadow rules enforced', r.baseline.evaluationWithShadow]] as Array<[string, Evaluation | undefined]>) : []),
  ];
  const rows = sides.flatMap(([name, e]) => (e ? [[esc(name), esc(pct(e.precision)), esc(pct(e.recall)), esc(pct(e.f1)), esc(num(e.truePositives)), esc(num(e.falsePositives)), esc(num(e.falseNegatives)), esc(num(e.trueNegatives))]] : []));
  const personas = table(
    ['persona', 'should be', 'accounts', 'flagged', 'rate'],
    (c.evaluation.personas ?? []).map((p) => [esc(p.persona), esc(p.abusive ? 'flagged' : 'left alone'), esc(num(p.accounts)), esc(num(p.flagged)), esc(pct(p.flaggedRate))]),
    'personas',
  );
  return `<section id="accuracy"><h2>Precision and recall</h2>${table(['rules', 'precision', 'recall', 'F1', 'TP', 'FP', 'FN', 'TN'], rows, 'accuracy')}<h3>Candidate by persona</h3>${personas}</section>`;
}

function changes(r: BacktestReport): string {
  if (!r.diff) return '';
  const rows = r.diff.rules.filter((x) => x.change !== 'unchanged').map((x) => [`<code>${esc(x.rule)}</code>`, esc(x.change), esc(x.baselineVersion ?? ''), esc(x.candidateVersion ?? ''), esc(`${x.baselineMode ?? '-'} → ${x.candidateMode ?? '-'}`)]);
  return `<section id="changes"><h2>Rule changes</h2>${rows.length ? table(['rule', 'change', 'baseline version', 'candidate version', 'mode'], rows, 'changes') : '<p>No rule differs from the baseline.</p>'}</section>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#1d232a;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #d8dde3;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #eceff2;text-align:right;vertical-align:top}
th:first-child,td:first-child,.offenders td:nth-child(7){text-align:left}th{background:#f5f7f9}
code{font:12px ui-monospace,monospace}.meta{color:#5b6672}
.up{color:#b3261e}.down{color:#1b7f3b}.same{color:#8a949e}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure.chart{margin:0;border:1px solid #eceff2;padding:8px}figcaption{font:600 13px ui-monospace,monospace}
svg .grid{stroke:#eceff2}svg .tick{font:10px system-ui,sans-serif;fill:#5b6672}
svg .line{fill:none;stroke-width:1.6}svg .line.candidate{stroke:#1f5fbf}svg .line.baseline{stroke:#c2741b;stroke-dasharray:4 3}
svg .pt.candidate{fill:#1f5fbf}svg .pt.baseline{fill:#c2741b}
.legend span{display:inline-block;margin-right:16px}.legend .candidate{color:#1f5fbf}.legend .baseline{color:#c2741b}
.flagged{display:flex;gap:32px}.flagged ul{columns:3;padding-left:18px;max-width:560px}
`;

/** The whole report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched. */
export function renderHtml(r: BacktestReport): string {
  const c = r.candidate;
  const legend = `<p class="legend"><span class="candidate">━ candidate (${esc(c.rules)})</span>${r.baseline ? `<span class="baseline">╌ baseline (${esc(r.baseline.rules)})</span>` : ''}</p>`;
  const flagged = r.diff
    ? `<section id="flagged"><h2>Flagged accounts vs baseline</h2><div class="flagged">${accountList('newly flagged', r.diff.newlyFlagged, 'newly')}${accountList('no longer flagged', r.diff.noLongerFlagged, 'no-longer')}</div></section>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fairuse backtest</title><style>${STYLE}</style></head>
<body>
<h1>fairuse backtest</h1>
<p class="meta">input <code>${esc(r.input)}</code>, ${r.from === null ? 'no valid events' : `events from ${esc(r.from)} to ${esc(r.to)}`}; candidate rules <code>${esc(c.rules)}</code> (policy <code>${esc(c.policy)}</code>)${r.baseline ? `; baseline rules <code>${esc(r.baseline.rules)}</code> (policy <code>${esc(r.baseline.policy)}</code>)` : ''}</p>
<section id="summary"><h2>Summary</h2>${summary(r)}</section>
${changes(r)}
<section id="rules"><h2>Strikes per rule</h2>${perRule(r)}</section>
<section id="timeline"><h2>Strikes over time (per ${esc(formatDuration(r.bucket))})</h2>${legend}<div class="charts">${charts(r)}</div></section>
${flagged}
<section id="offenders"><h2>Top offenders (candidate)</h2>${offenders(r)}</section>
${evaluation(r)}
</body></html>
`;
}
