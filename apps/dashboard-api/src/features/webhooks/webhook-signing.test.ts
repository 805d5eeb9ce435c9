// Our signer checked by an implementation we did not write: the `standardwebhooks` package.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signedHeaders } from './webhook-signing.ts';

describe('Standard Webhooks signing', () => {
  const body = JSON.stringify({ type: 'dongle.online', data: { dongleId: 'd1', note: 'ünïcode ✓' } });

  it('produces headers the standardwebhooks library verifies', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const headers = signedHeaders([secret], 'evt_42', body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('fails verification for a tampered body, another secret or another id', () => {
    const secret = generateWebhookSecret();
    const headers = signedHeaders([secret], 'evt_42', body);
    expect(() => new Webhook(secret).verify(body.replace('d1', 'd2'), { ...headers })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'evt_43' })).toThrow();
  });

  it('signs with both secrets during a rotation overlap, so either verifies', () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = signedHeaders([newSecret, oldSecret], 'evt_7', body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toBeTruthy();
    expect(new Webhook(newSecret).verify(body, { ...headers })).toBeTruthy();
  });

  it('keeps the message id and re-signs with a fresh timestamp on a retry', () => {
    const secret = generateWebhookSecret();
    const first = signedHeaders([secret], 'evt_9', body, new Date(Date.now() - 60_000));
    const retry = signedHeaders([secret], 'evt_9', body);
    expect(retry['webhook-id']).toBe(first['webhook-id']);
    expect(Number(retry['webhook-timestamp'])).toBeGreaterThan(Number(first['webhook-timestamp']));
    expect(new Webhook(secret).verify(body, { ...retry })).toBeTruthy();
  });
});
