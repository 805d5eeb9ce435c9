// The environment is validated once, at start, with one line per bad value.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const messageOf = (env: NodeJS.ProcessEnv) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected loadConfig to refuse this environment');
};

describe('loadConfig', () => {
  it('lists every bad value on its own line, naming the variable but never echoing a secret', () => {
    const message = messageOf({ PORT: 'abc', SESSION_SECRET: 'short-secret', PUBLIC_URL: 'not a url' });
    expect(message).toMatch(/^ {2}PORT: /m);
    expect(message).toMatch(/^ {2}SESSION_SECRET: must be at least 32 characters$/m);
    expect(message).toMatch(/^ {2}PUBLIC_URL: /m);
    expect(message).not.toContain('short-secret');
  });

  it('treats empty strings as unset and applies the defaults', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '', LOG_LEVEL: '' });
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses to start in production without its secrets and database', () => {
    const message = messageOf({ NODE_ENV: 'production' });
    for (const name of ['SESSION_SECRET', 'DONGLE_TOKEN_KEYS', 'DATABASE_URL']) expect(message).toContain(`${name}: is required in production`);
  });

  it('holds ADMIN_PASSWORD to the password policy and normalises it as login does', () => {
    expect(messageOf({ ADMIN_EMAIL: 'root@example.test', ADMIN_PASSWORD: 'password1234' })).toMatch(/ADMIN_PASSWORD: .*common/i);
    const decomposed = 'Crème brûlée for the whole café'.normalize('NFD');
    const config = loadConfig({ ADMIN_EMAIL: 'Root@Example.test', ADMIN_PASSWORD: decomposed });
    expect(config.admin).toEqual({ email: 'root@example.test', password: decomposed.normalize('NFC') });
  });

  it('turns on TLS-only behaviour from an https PUBLIC_URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://fleet.example.com/' })).toMatchObject({ tls: true, publicUrl: 'https://fleet.example.com' });
    expect(loadConfig({}).tls).toBe(false);
  });
});
