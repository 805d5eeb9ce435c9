// SSRF refusals against real sockets: a receiver listens on loopback, and a refused delivery must
// not reach it at all (not merely fail afterwards).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type WebhookReceiver } from '../../../test/support/webhook-receiver.ts';
import { postJson } from './outbound-http.ts';
import { refusalReason, urlProblem } from './ssrf-guard.ts';

const strict = { allowPrivateNetworks: false };
const lenient = { allowPrivateNetworks: true };
const send = (url: string, policy = strict) => postJson(url, '{}', { policy, timeoutMs: 2_000, headers: {} });

describe('SSRF guard', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254', '[::1]', '172.16.5.4', '192.168.1.1', '100.64.0.1', '[fd00::1]', '[fe80::1]', '[::ffff:127.0.0.1]', '0.0.0.0'])(
    'refuses %s without connecting',
    async (host) => {
      const result = await send(`http://${host}:${receiver.port}/hook`);
      expect(result).toMatchObject({ statusCode: null, error: 'address_refused' });
    },
  );

  it('refuses a name that resolves to loopback (localhost), and the receiver sees nothing', async () => {
    const result = await send(`http://localhost:${receiver.port}/hook`);
    expect(result.error).toBe('address_refused');
    expect(result.body).toMatch(/localhost resolves to/);
    expect(receiver.received).toHaveLength(0);
  });

  it('reaches a loopback receiver only when private networks are allowed', async () => {
    const result = await send(`${receiver.url}/hook`, lenient);
    expect(result.statusCode).toBe(204);
    expect(receiver.received).toHaveLength(1);
  });

  it('keeps refusing link-local and metadata addresses even when private networks are allowed', () => {
    expect(refusalReason('169.254.169.254', lenient)).toMatch(/metadata/);
    expect(refusalReason('fe80::1', lenient)).not.toBeNull();
    expect(refusalReason('::ffff:10.0.0.1', lenient)).not.toBeNull();
    expect(refusalReason('127.0.0.1', lenient)).toBeNull();
    expect(refusalReason('93.184.215.14', strict)).toBeNull();
    expect(refusalReason('2606:4700::1111', strict)).toBeNull();
  });

  it('does not follow a redirect (a 3xx is the answer, the target is never asked)', async () => {
    const target = await startReceiver();
    try {
      receiver.script([{ status: 307, headers: { location: `${target.url}/internal` } }]);
      const result = await send(`${receiver.url}/redirect`, lenient);
      expect(result.statusCode).toBe(307);
      await new Promise((r) => setTimeout(r, 200));
      expect(target.received).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('keeps only the first kilobyte of a response', async () => {
    receiver.script([{ status: 500, body: 'x'.repeat(50_000) }]);
    const result = await send(`${receiver.url}/big`, lenient);
    expect(result.statusCode).toBe(500);
    expect(result.body).toHaveLength(1024);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    receiver.script([{ status: 200, delayMs: 5_000 }]);
    const result = await postJson(`${receiver.url}/slow`, '{}', { policy: lenient, timeoutMs: 300, headers: {} });
    expect(result).toMatchObject({ statusCode: null, error: 'timeout' });
  });

  it('rejects URLs that are not plain http(s) when a webhook is saved', () => {
    expect(urlProblem('ftp://example.com/')).toMatch(/http/);
    expect(urlProblem('https://user:pw@example.com/')).toMatch(/credentials/);
    expect(urlProblem('not a url')).toMatch(/absolute/);
    expect(urlProblem('https://hooks.example.com/in?x=1')).toBeNull();
  });
});
