import type { Random } from './random.js';

export type Client = 'web' | 'ios' | 'android' | 'api';

/** What the platform sees of a client: a fingerprint (absent for API keys), the client kind and user agent. */
export interface Device {
  readonly deviceId?: string;
  readonly client: Client;
  readonly userAgent: string;
}

const BROWSER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
] as const;

const IOS_AGENTS = [
  'Imagine/5.3.0 (iPhone15,3; iOS 18.1; Scale/3.00)',
  'Imagine/5.3.0 (iPhone16,2; iOS 18.1.1; Scale/3.00)',
  'Imagine/5.2.4 (iPad14,1; iPadOS 17.6; Scale/2.00)',
] as const;

const ANDROID_AGENTS = [
  'Imagine/5.3.0 (Linux; Android 14; Pixel 8) okhttp/4.12.0',
  'Imagine/5.3.0 (Linux; Android 14; SM-S921B) okhttp/4.12.0',
  'Imagine/5.2.4 (Linux; Android 13; 23021RAA2Y) okhttp/4.12.0',
] as const;

const SCRIPT_AGENTS = ['python-requests/2.32.3', 'imagine-sdk-python/1.4.0', 'axios/1.7.7', 'curl/8.5.0'] as const;

const HEADLESS_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36',
] as const;

function fingerprint(rng: Random): string {
  return `dev-${rng.hex(16)}`;
}

export function browser(rng: Random): Device {
  return { deviceId: fingerprint(rng), client: 'web', userAgent: rng.pick(BROWSER_AGENTS) };
}

export function phone(rng: Random): Device {
  return rng.chance(0.55)
    ? { deviceId: fingerprint(rng), client: 'ios', userAgent: rng.pick(IOS_AGENTS) }
    : { deviceId: fingerprint(rng), client: 'android', userAgent: rng.pick(ANDROID_AGENTS) };
}

/** A person's own device: a phone app or a computer's browser. */
export function personalDevice(rng: Random): Device {
  return rng.chance(0.5) ? phone(rng) : browser(rng);
}

/** An API key used from code: no device fingerprint, a library's user agent. */
export function scriptClient(rng: Random): Device {
  return { client: 'api', userAgent: rng.pick(SCRIPT_AGENTS) };
}

/** A headless browser driving the web app: it has a fingerprint, but the user agent gives it away. */
export function headlessBrowser(rng: Random): Device {
  return { deviceId: fingerprint(rng), client: 'web', userAgent: rng.pick(HEADLESS_AGENTS) };
}
