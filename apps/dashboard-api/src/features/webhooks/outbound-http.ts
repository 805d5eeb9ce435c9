// One outbound POST to a webhook receiver: connects to the pinned, checked address (see
// ssrf-guard.ts), never follows redirects, gives up after `timeoutMs`, and keeps only the first
// kilobyte of the response for the delivery log.
import http from 'node:http';
import https from 'node:https';
import { resolvePinnedAddress, type AddressPolicy } from './ssrf-guard.ts';

export const RESPONSE_KEEP_BYTES = 1024;

export interface PostResult {
  /** null when no response arrived (refused address, connection error, timeout). */
  statusCode: number | null;
  /** The first kilobyte of the response body, or the error text. */
  body: string;
  durationMs: number;
  error?: 'address_refused' | 'timeout' | 'connection_failed' | 'not_sent';
}

export interface PostOptions {
  policy: AddressPolicy;
  timeoutMs: number;
  headers: Record<string, string>;
}

export async function postJson(rawUrl: string, body: string, options: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(rawUrl);
  let pinned: { address: string; family: 4 | 6 };
  try {
    pinned = await resolvePinnedAddress(url, options.policy);
  } catch (error) {
    const refused = (error as { code?: string }).code === 'address_refused';
    return { statusCode: null, body: (error as Error).message, durationMs: elapsed(), error: refused ? 'address_refused' : 'connection_failed' };
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = transport.request({
      method: 'POST',
      host: pinned.address,
      family: pinned.family,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      // TLS still verifies the certificate against the name, not the pinned address.
      servername: url.protocol === 'https:' ? url.hostname.replace(/^\[(.*)\]$/, '$1') : undefined,
      headers: {
        ...options.headers,
        host: url.host,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'fleet-dashboard-webhooks/1',
      },
      agent: false,
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish({ statusCode: null, body: `no response within ${options.timeoutMs} ms`, durationMs: elapsed(), error: 'timeout' });
    }, options.timeoutMs);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on('data', (chunk: Buffer) => {
        if (kept < RESPONSE_KEEP_BYTES) {
          chunks.push(chunk.subarray(0, RESPONSE_KEEP_BYTES - kept));
          kept += Math.min(chunk.length, RESPONSE_KEEP_BYTES - kept);
        }
        // Beyond the first kilobyte we stop reading: a receiver cannot make us buffer its body.
        if (kept >= RESPONSE_KEEP_BYTES) {
          response.destroy();
          done();
        }
      });
      const done = () => finish({ statusCode: response.statusCode ?? null, body: Buffer.concat(chunks).toString('utf8'), durationMs: elapsed() });
      response.on('end', done);
      response.on('error', done);
      response.on('close', done);
    });
    request.on('error', (error) => finish({ statusCode: null, body: error.message.slice(0, RESPONSE_KEEP_BYTES), durationMs: elapsed(), error: 'connection_failed' }));
    request.end(body);
  });
}
