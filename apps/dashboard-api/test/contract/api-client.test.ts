// apps/api-client is generated from the routes (npm run api:generate). The committed files must
// be what a fresh generation writes, so a route change without a regenerated client fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_CLIENT_DIR, generateApiClientFiles } from '../../src/cli/api-client.ts';

describe('the generated API client', () => {
  it('is committed exactly as a fresh generation from the routes writes it', async () => {
    const fresh = await generateApiClientFiles();
    expect(Object.keys(fresh)).toEqual(['openapi.json', 'src/schema.d.ts']);
    for (const [path, content] of Object.entries(fresh)) {
      const committed = readFileSync(join(API_CLIENT_DIR, path), 'utf8');
      expect(committed === content, `apps/api-client/${path} is stale: run \`npm run api:generate\` and commit the result`).toBe(true);
    }
  });
});
