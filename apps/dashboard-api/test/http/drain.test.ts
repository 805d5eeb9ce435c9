// A draining server tells keep-alive clients to go: every response during the drain carries
// `Connection: close`, so an agent long-polling on a keep-alive connection gets one answer,
// finds the listener closed, and the drain ends long before the shutdown deadline, instead of
// the agent re-polling over its open connection until the deadline (the old behaviour).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { shutdownTimeoutMs: 10_000 } });
});
afterAll(() => app.stop());

interface Poll {
  status: number;
  connection: string | undefined;
}

function poll(agent: http.Agent, authorization: string): Promise<Poll> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${app.url}/api/agent/commands?wait=30`, { agent, headers: { authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    request.on('error', reject);
  });
}

describe('draining with an idle agent long-polling on keep-alive', () => {
  it('answers the waiting poll with Connection: close and ends the drain well before the deadline', { timeout: 60_000 }, async () => {
    const owner = await createUser(app.db);
    const { authorization } = await createAgent(app.db, owner.id);
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const answers: Poll[] = [];
    // A real agent's loop: poll again at once after every answer, stop when it cannot connect.
    const agentLoop = (async () => {
      for (;;) {
        try {
          answers.push(await poll(keepAlive, authorization));
        } catch (error) {
          return (error as NodeJS.ErrnoException).code;
        }
      }
    })();
    // Let the first poll reach its wait.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(answers).toEqual([]);

    const started = Date.now();
    await app.server.stop();
    const drainMs = Date.now() - started;
    const ended = await agentLoop;
    keepAlive.destroy();

    // One empty answer (the poll that was waiting), told to close; then the listener is gone.
    expect(answers.length).toBeLessThanOrEqual(2);
    expect(answers[0]).toEqual({ status: 200, connection: 'close' });
    expect(ended).toBe('ECONNREFUSED');
    // Far from the 10 s deadline (the old drain ran into it); loose on purpose for a busy machine.
    expect(drainMs).toBeLessThan(5_000);
  });
});
