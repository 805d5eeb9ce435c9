// `npm run api:generate`: writes the OpenAPI document and the TypeScript types generated from it
// into apps/api-client, the typed client the dashboard and apps/agent-sim use. The committed
// files must equal a fresh generation (test/contract/api-client.test.ts), so a route change
// that is not regenerated fails the suite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER, UNKNOWN } from 'openapi-typescript';
import { buildOpenApiDocument } from '../openapi-document.ts';

export const API_CLIENT_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../api-client');

/** The generated files, by path inside apps/api-client. */
export async function generateApiClientFiles(): Promise<Record<string, string>> {
  const document = await buildOpenApiDocument();
  const json = `${JSON.stringify(document, null, 2)}\n`;
  // openapi-typescript resolves the document in place: give it its own copy.
  const ast = await openapiTS(structuredClone(document) as unknown as Parameters<typeof openapiTS>[0], {
    silent: true,
    // Any JSON value, typed `unknown`: the recursive type openapi-typescript writes for it sends
    // openapi-fetch's request-body types into endless recursion (the body then fits nothing).
    transform: (_schema, metadata) => (metadata.path?.endsWith('#/components/schemas/JsonValue') ? UNKNOWN : undefined),
  });
  const types = COMMENT_HEADER.replace('openapi-typescript.', 'openapi-typescript from openapi.json (npm run api:generate).') + astToString(ast);
  return { 'openapi.json': json, 'src/schema.d.ts': types };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const files = await generateApiClientFiles();
  for (const [path, content] of Object.entries(files)) {
    const target = join(API_CLIENT_DIR, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote ${target}`);
  }
}
