import type { RunSummary } from '../embedded/run.js';

const n = (x: number) => x.toLocaleString('en-US');

/** The run summary as people read it on a terminal. */
export function formatSummary(s: RunSummary, out: string): string {
  const bad = s.bad.oversized + s.bad['not-json'] + s.bad.schema;
  const rows = (byRule: Record<string, number>) =>
    Object.entries(byRule)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([rule, count]) => `    ${rule.padEnd(36)} ${n(count)}`);
  return [
    `events      ${n(s.lines)} read, ${n(s.accepted)} accepted, ${n(bad)} bad (oversized ${s.bad.oversized}, not JSON ${s.bad['not-json']}, schema ${s.bad.schema}), ${n(s.duplicates)} duplicates, ${n(s.late)} late`,
    `strikes     ${n(Object.values(s.strikesByRule).reduce((a, b) => a + b, 0))} enforced`,
    ...rows(s.strikesByRule),
    `shadow      ${n(Object.values(s.shadowStrikesByRule).reduce((a, b) => a + b, 0))} would-be strikes (never escalate)`,
    ...rows(s.shadowStrikesByRule),
    `accounts    ${n(s.accounts.seen)} seen: ${n(s.accounts.active)} active, ${n(s.accounts.paused)} paused, ${n(s.accounts.suspended)} suspended; ${n(s.cases)} cases`,
    `decisions   ${n(s.transitions)} transitions, ${n(s.speedDecisions)} speed decisions, commands ${s.commands.applied} applied / ${s.commands.refused} refused`,
    `throughput  ${n(s.eventsPerSecond)} events/s (${s.seconds}s)`,
    `outputs     ${out}`,
  ].join('\n');
}
