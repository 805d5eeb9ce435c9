// Loads Prisma's official WebAssembly schema engine (@prisma/schema-engine-wasm) under Node.
//
// Why: the native engine behind `prisma migrate deploy|status|diff` is downloaded from Prisma's
// own host at first use, which offline machines cannot reach. The WebAssembly build ships in an
// npm package and, driven through the pg driver adapter, applies migrations and records them in
// `_prisma_migrations` exactly as `prisma migrate deploy` does (same table, same checksums).
//
// The package entry does `import * as wasm from "./x.wasm"`, which Node 20 cannot import, so we
// instantiate the module ourselves the way wasm-bindgen's generated entry would.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine as WasmSchemaEngine } from '@prisma/schema-engine-wasm';

/** The engine plus `close()`, which frees it and ends its connection pool. Always call close(). */
export type SchemaEngine = WasmSchemaEngine & { close(): Promise<void> };

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/**
 * @prisma/adapter-pg 7.10 runs a migration script by splitting it on every `;`, which breaks
 * PL/pgSQL bodies and any literal or comment holding a semicolon. The native engine sends the
 * whole script as one simple-protocol query, which PostgreSQL runs as one implicit transaction
 * (a failing migration leaves nothing half-applied). This factory restores that behaviour.
 */
class WholeScriptPrismaPg extends PrismaPg {
  /** Every adapter the engine opened: the engine never disposes them itself (see closeEngine). */
  readonly opened: PgAdapter[] = [];

  override async connect(): Promise<PgAdapter> {
    const adapter = await super.connect();
    this.opened.push(adapter);
    const internals = adapter as unknown as { client: pg.Pool | pg.PoolClient; onError(error: unknown): never };
    adapter.executeScript = async (script: string) => {
      try {
        await internals.client.query(script);
      } catch (error) {
        internals.onError(error);
      }
    };
    return adapter;
  }
}

const require = createRequire(import.meta.url);

// Node has WebAssembly; @types/node does not declare it (it lives in the DOM lib).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let bindings: Promise<typeof import('@prisma/schema-engine-wasm/schema_engine_bg')> | undefined;

function loadBindings() {
  bindings ??= (async () => {
    const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const wasmModule = new wasmApi.Module(readFileSync(path.join(path.dirname(bgPath), 'schema_engine_bg.wasm')));
    const instance = new wasmApi.Instance(wasmModule, { './schema_engine_bg.js': bg });
    const exports = instance.exports as Record<string, unknown> & { __wbindgen_start(): void };
    (bg as unknown as { __wbg_set_wasm(e: unknown): void }).__wbg_set_wasm(exports);
    exports.__wbindgen_start();
    return bg;
  })();
  return bindings;
}

export interface EngineOptions {
  databaseUrl: string;
  /** Prisma schema files to load, as [path, content]; optional for migrate-only work. */
  datamodels?: [string, string][];
  onLog?: (line: string) => void;
}

/** Opens a schema engine connected to `databaseUrl`. Call `await engine.close()` when done. */
export async function openSchemaEngine(options: EngineOptions): Promise<SchemaEngine> {
  const { SchemaEngine } = await loadBindings();
  const factory = new WholeScriptPrismaPg({ connectionString: options.databaseUrl });
  const engine = await SchemaEngine.new(
    { datamodels: options.datamodels },
    (line: string) => options.onLog?.(line),
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  return Object.assign(engine, { close: () => closeEngine(engine, factory) });
}

/**
 * `engine.free()` releases the WebAssembly side only; the pg pool the engine opened stays, and
 * its idle connection keeps holding Prisma's session advisory lock (taken by applyMigrations and
 * the mark-* commands) until the pool's 10 s idle timeout. Every later engine on that database,
 * in this process or another, then waited those 10 s for the lock. Ending the pool releases it.
 */
async function closeEngine(engine: WasmSchemaEngine, factory: WholeScriptPrismaPg): Promise<void> {
  engine.free();
  await Promise.all(factory.opened.splice(0).map((adapter) => adapter.dispose()));
}
