import type { Random } from './random.js';
import { SECOND } from './clock.js';

export type Plan = 'unlimited' | 'pro' | 'basic';
export type Tool = 'image' | 'video';
export type Speed = 'fast' | 'relaxed';
type Outcome = 'completed' | 'failed' | 'rejected';

/** Whether a generation is free under the plan: Unlimited always; Pro gets unlimited relaxed generations; Basic never. */
export function isUnlimited(plan: Plan, speed: Speed): boolean {
  return plan === 'unlimited' || (plan === 'pro' && speed === 'relaxed');
}

/** What an account tends to generate. */
export interface Workload {
  readonly videoShare: number;
  readonly fastShare: number;
  readonly failureRate: number;
}

/** One generation as the platform processes it; times are relative to the request. */
export interface Job {
  readonly tool: Tool;
  readonly model: string;
  readonly speed: Speed;
  /** requested → started: time waiting in the queue. */
  readonly queueMs: number;
  /** requested → completed / failed. */
  readonly renderMs: number;
  /** `rejected` fails before it starts (e.g. moderation), so it has no `started` event. */
  readonly outcome: Outcome;
}

const MODELS: Record<Tool, readonly (readonly [string, number])[]> = {
  image: [
    ['imagine-v6', 6],
    ['imagine-v6-turbo', 3],
    ['imagine-v5.2', 1],
  ],
  video: [
    ['motion-2', 3],
    ['motion-2-lite', 2],
  ],
};

/** requested → finished, in seconds: fast GPUs vs the relaxed queue; video takes minutes. */
const RENDER_SECONDS: Record<Tool, Record<Speed, readonly [number, number]>> = {
  image: { fast: [5, 30], relaxed: [15, 90] },
  video: { fast: [40, 150], relaxed: [90, 300] },
};

/** Draws a job; `tool` pins the tool, e.g. for the rest of a batch. */
export function drawJob(rng: Random, workload: Workload, tool?: Tool): Job {
  const chosenTool = tool ?? (rng.chance(workload.videoShare) ? 'video' : 'image');
  const speed = rng.chance(workload.fastShare) ? 'fast' : 'relaxed';
  const model = rng.weighted(MODELS[chosenTool]);
  const [min, max] = RENDER_SECONDS[chosenTool][speed];
  const renderMs = Math.round(rng.uniform(min, max) * SECOND);
  const failed = rng.chance(workload.failureRate);
  if (failed && rng.chance(0.4)) {
    const rejectedAfter = Math.round(rng.uniform(0.3, 3) * SECOND);
    return { tool: chosenTool, model, speed, queueMs: rejectedAfter, renderMs: rejectedAfter, outcome: 'rejected' };
  }
  // Relaxed jobs wait for spare capacity; fast jobs start almost at once.
  const queueMs = Math.round(speed === 'fast' ? rng.uniform(200, 2_000) : rng.uniform(SECOND, renderMs / 3));
  return { tool: chosenTool, model, speed, queueMs, renderMs, outcome: failed ? 'failed' : 'completed' };
}
