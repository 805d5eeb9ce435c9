// Wires the commands feature into the app: services, the one LISTEN connection, the sweeper,
// the idempotency-key pruner, and the routes under /dongles, /commands and /agent.
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { createIdempotencyPruner } from '../../platform/http/idempotency.ts';
import type { Lifecycle } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { touchAgentLastSeen } from '../agents/agent-presence.ts';
import { mountAgentCommandRoutes } from './agent-commands.routes.ts';
import { createAgentCommandService } from './agent-commands.service.ts';
import { CommandNotifier } from './command-notifier.ts';
import { createCommandSweeper } from './command-sweeper.ts';
import { mountCommandRoutes } from './commands.routes.ts';
import { createCommandService } from './commands.service.ts';

export interface CommandsFeatureDeps {
  config: Config;
  db: Database;
  logger: Logger;
  lifecycle: Lifecycle;
  mount(path: string): ApiRouter;
  /** The fleet prefixes the operator routes are mounted under ('' and '/orgs/:orgId'). */
  prefixes: readonly string[];
}

export function setupCommands(deps: CommandsFeatureDeps) {
  const { config, db, logger, lifecycle } = deps;
  const notifier = new CommandNotifier({ databaseUrl: db.url, logger });
  lifecycle.addWorker(notifier);
  lifecycle.addWorker(createCommandSweeper({ db, logger, intervalMs: config.commands.sweepIntervalMs }));
  lifecycle.addWorker(createIdempotencyPruner({ db, logger }));

  const commands = createCommandService({ db, timeoutSeconds: config.commands.timeoutSeconds });
  const agentCommands = createAgentCommandService({
    db,
    notifier,
    logger,
    touchAgent: async (agent) => {
      await touchAgentLastSeen(db.prisma, agent, { pollIntervalMs: config.agentPollIntervalMs });
    },
  });
  for (const prefix of deps.prefixes) {
    mountCommandRoutes({ dongles: deps.mount(`${prefix}/dongles`), commands: deps.mount(`${prefix}/commands`) }, { commands, db, logger });
  }
  mountAgentCommandRoutes(deps.mount('/agent'), { agentCommands, lifecycle });
  return { commands, agentCommands, notifier };
}
