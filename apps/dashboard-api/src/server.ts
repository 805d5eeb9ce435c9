// Listening and graceful shutdown. Order on stop: report not-ready, stop accepting, end
// long-polls and workers, let in-flight requests finish (bounded by a deadline), then the
// caller closes the database.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App, type AppDeps } from './app.ts';

export interface RunningServer {
  app: App;
  server: http.Server;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(deps: AppDeps, listen: { port: number; host?: string }): Promise<RunningServer> {
  const app = createApp(deps);
  const server = http.createServer(app.express);
  // Keep-alive sockets must not outlive a proxy's idle timeout (and must not block shutdown).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host ?? '127.0.0.1', () => resolve());
  });
  app.lifecycle.startWorkers();
  const { port } = server.address() as AddressInfo;
  const host = listen.host && listen.host !== '0.0.0.0' ? listen.host : '127.0.0.1';

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      app.readiness.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await app.lifecycle.stop();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, deps.config.shutdownTimeoutMs).unref());
      await Promise.race([closed, deadline]);
      server.closeAllConnections();
    })());

  return { app, server, url: `http://${host}:${port}`, stop };
}
