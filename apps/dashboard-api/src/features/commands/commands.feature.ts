// The commands feature's services and workers: the one LISTEN connection, the sweeper, the
// idempotency-key pruner. Its routes are mounted by src/routes (operator.ts, agent.ts). What a
// poll does for the agents feature (touch the agent's last_seen_at) is handed in by app.ts.
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import { createIdempotencyPruner } from '../../platform/http/idempotency.ts';
import type { Lifecycle } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AgentPrincipal } from '../auth/principal.ts';
import { createAgentCommandService } from './agent-commands.service.ts';
import { CommandNotifier } from './command-notifier.ts';
import { createCommandSweeper } from './command-sweeper.ts';
import { createCommandService } from './commands.service.ts';

export interface CommandsFeatureDeps {
  config: Config;
  db: Database;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Marks the polling agent as seen (throttled: a poll with nothing pending must not write). */
  touchAgent(agent: AgentPrincipal): Promise<void>;
}

export function setupCommands(deps: CommandsFeatureDeps) {
  const { config, db, logger, lifecycle } = deps;
  const notifier = new CommandNotifier({ databaseUrl: db.url, logger });
  lifecycle.addWorker(notifier);
  lifecycle.addWorker(createCommandSweeper({ db, logger, intervalMs: config.commands.sweepIntervalMs }));
  lifecycle.addWorker(createIdempotencyPruner({ db, logger }));

  const commands = createCommandService({ db, timeoutSeconds: config.commands.timeoutSeconds, queuedLimit: config.quotas.queuedCommandsPerDongle });
  const agentCommands = createAgentCommandService({
    db,
    notifier,
    logger,
    maxConcurrentPolls: config.agentMaxConcurrentPolls,
    touchAgent: deps.touchAgent,
  });
  return { commands, agentCommands, notifier };
}
