// The dependency rule of doc/architecture.md ("Dependencies point one way"), read from the import
// lines of every source file under src/ (tests and the generated Prisma client aside). Type-only
// imports count: they are arrows a reader follows too. Each failure names the importing file and
// what it imports, so the message says what to move.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const srcRoot = path.join(apiRoot, 'src');

interface Import {
  /** Importing file, relative to the API's folder (src/…). */
  from: string;
  /** The imported file, relative to the API's folder (src/…, test/…), as written plus resolved. */
  to: string;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return full === path.join(srcRoot, 'generated') ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Every relative import of every source file (static, `export … from`, dynamic `import()`). */
function readImports(): Import[] {
  return sourceFiles(srcRoot).flatMap((file) => {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    return importedFiles
      .filter(({ fileName }) => fileName.startsWith('.'))
      .map(({ fileName }) => ({ from: path.relative(apiRoot, file), to: path.relative(apiRoot, path.resolve(path.dirname(file), fileName)) }));
  });
}

const imports = readImports();
const show = (list: Import[]) => [...new Set(list.map((i) => `${i.from} imports ${i.to}`))];
const featureOf = (file: string) => /^src\/features\/([^/]+)\//.exec(file)?.[1];
const under = (file: string, folder: string) => file.startsWith(`${folder}/`);

/**
 * The cycles of a directed graph, as readable paths: for every edge that lies on a cycle, a
 * shortest cycle through it (each cycle once, starting at its first node in sort order). Every
 * edge to remove or invert is on at least one of them.
 */
function findCycles(edges: Map<string, Set<string>>): string[][] {
  const next = (node: string) => [...(edges.get(node) ?? [])].sort();
  /** A shortest path from `from` to `to` (both included), or undefined. */
  const shortestPath = (from: string, to: string): string[] | undefined => {
    const previous = new Map<string, string>([[from, from]]);
    const queue = [from];
    while (queue.length > 0) {
      const node = queue.shift()!;
      if (node === to) {
        const path = [to];
        while (path[0] !== from) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      for (const after of next(node)) {
        if (previous.has(after)) continue;
        previous.set(after, node);
        queue.push(after);
      }
    }
    return undefined;
  };
  const cycles = new Map<string, string[]>();
  for (const from of [...edges.keys()].sort()) {
    for (const to of next(from)) {
      const back = shortestPath(to, from);
      if (!back) continue;
      const ring = [from, ...back.slice(0, -1)];
      const first = ring.indexOf([...ring].sort()[0]!);
      const cycle = [...ring.slice(first), ...ring.slice(0, first)];
      cycles.set(cycle.join('>'), [...cycle, cycle[0]!]);
    }
  }
  return [...cycles.values()].sort((a, b) => a.length - b.length || a.join().localeCompare(b.join()));
}

describe('dependency rule (doc/architecture.md)', () => {
  it('reads the import lines it checks', () => {
    expect(imports.length).toBeGreaterThan(500);
    expect(imports).toContainEqual({ from: 'src/app.ts', to: 'src/routes/operator.ts' });
  });

  it('finds cycles of any length and names each as a path', () => {
    const graph = new Map(Object.entries({ a: ['b'], b: ['c', 'a'], c: ['a', 'd'], d: [], e: ['f'], f: ['e'], g: ['a'] }).map(([k, v]) => [k, new Set(v)]));
    expect(findCycles(graph)).toEqual([['a', 'b', 'a'], ['e', 'f', 'e'], ['a', 'b', 'c', 'a']]);
  });

  it('has no cycle between feature folders', () => {
    const edges = new Map<string, Set<string>>();
    const byEdge = new Map<string, Import[]>();
    for (const i of imports) {
      const from = featureOf(i.from);
      const to = featureOf(i.to);
      if (!from || !to || from === to) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
      byEdge.set(`${from}>${to}`, [...(byEdge.get(`${from}>${to}`) ?? []), i]);
    }
    const report = findCycles(edges).map((cycle) => {
      const steps = cycle.slice(1).map((to, n) => show(byEdge.get(`${cycle[n]}>${to}`)!).map((line) => `    ${line}`).join('\n'));
      return `${cycle.join(' → ')}\n${steps.join('\n')}`;
    });
    expect(report, `feature folders import each other in a circle; move the shared part down or pass it in from app.ts:\n${report.join('\n')}`).toEqual([]);
  });

  it('keeps platform/ free of features, routes/ and tooling/', () => {
    const offending = imports.filter((i) => under(i.from, 'src/platform') && ['src/features', 'src/routes', 'src/tooling', 'src/cli'].some((folder) => under(i.to, folder)));
    expect(show(offending), 'platform/ has no domain knowledge: it imports only platform/ and generated/').toEqual([]);
  });

  it('keeps config.ts to the platform', () => {
    const offending = imports.filter((i) => i.from === 'src/config.ts' && !under(i.to, 'src/platform'));
    expect(show(offending), 'config.ts is read by everything, so it imports only platform/').toEqual([]);
  });

  it('imports no test code from src/', () => {
    const offending = imports.filter((i) => under(i.to, 'test') || i.to.endsWith('.test.ts') || !under(i.to, 'src'));
    expect(show(offending), 'helpers for tests live in test/support/; src/ never imports them').toEqual([]);
  });

  it('imports routes/ only from the composition root', () => {
    const root = new Set(['src/app.ts', 'src/server.ts']);
    const offending = imports.filter((i) => under(i.to, 'src/routes') && !root.has(i.from) && !under(i.from, 'src/routes'));
    expect(show(offending), 'routes/ wires audiences; only app.ts (and server.ts) import it').toEqual([]);
  });

  it('keeps features free of routes/, tooling/ and cli/', () => {
    const offending = imports.filter((i) => under(i.from, 'src/features') && ['src/routes', 'src/tooling', 'src/cli'].some((folder) => under(i.to, folder)));
    expect(show(offending), 'features are used by routes/, tooling/ and cli/, never the other way').toEqual([]);
  });
});
