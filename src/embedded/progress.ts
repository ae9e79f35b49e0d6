import type { PipelineStats } from '../engine/pipeline.js';

/** A one-line progress meter on stderr, redrawn at most twice a second, only on a terminal. */
export class Progress {
  private readonly enabled: boolean;
  private readonly started = performance.now();
  private lastDraw = 0;

  constructor(wanted: boolean) {
    this.enabled = wanted && process.stderr.isTTY === true;
  }

  update(lines: number, stats: PipelineStats): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 500) return;
    this.lastDraw = now;
    const rate = Math.round(lines / ((now - this.started) / 1000));
    const strikes = Object.values(stats.strikesByRule).reduce((a, b) => a + b, 0);
    process.stderr.write(`\r${lines.toLocaleString('en-US')} events  ${rate.toLocaleString('en-US')}/s  strikes ${strikes}  transitions ${stats.transitions}   `);
  }

  done(): void {
    if (this.enabled && this.lastDraw > 0) process.stderr.write('\n');
  }
}
