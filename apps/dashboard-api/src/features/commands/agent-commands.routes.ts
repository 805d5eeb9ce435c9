// Agent routes: the long-poll hand-out and the result post (bearer token, no CSRF).
import type { Request, Response } from 'express';
import { sha256Hex } from '../../platform/secrets.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import type { Lifecycle } from '../../platform/lifecycle.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentAgent } from '../auth/principal.ts';
import { agentPollView, commandView, presentCommand, presentDelivered } from './command.presenter.ts';
import { idParams, pollQuery, resultBody } from './commands.schemas.ts';
import { tooManyPolls, type createAgentCommandService } from './agent-commands.service.ts';

/** Ends a waiting poll on shutdown or when the agent hangs up (then nothing is claimed for it). */
function waitSignal(res: Response, lifecycle: Lifecycle): AbortSignal {
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  return AbortSignal.any([lifecycle.signal, gone.signal]);
}

/** SHA-256 of the request's bearer token ('' without one): the poll cap's per-token key. */
function tokenKey(req: Request): string {
  const token = /^bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  return token ? sha256Hex(token) : '';
}

export function mountAgentCommandRoutes(api: ApiRouter, deps: { agentCommands: ReturnType<typeof createAgentCommandService>; lifecycle: Lifecycle }) {
  // Registered before the route below, so it runs before its guard: a waiting poll beyond the
  // agent's cap is refused without a database query (a burst of 1,000 polls from one agent
  // costs four authentications, not 1,000). The slot is held until the response closes.
  api.router.get('/commands', (req, res, next) => {
    if (!(Number(req.query.wait) > 0)) return next();
    const release = deps.agentCommands.admitWaitingPoll(tokenKey(req));
    if (!release) return next(tooManyPolls(deps.agentCommands.maxConcurrentPolls));
    res.once('close', release);
    next();
  });

  api.get(
    '/commands',
    {
      summary: 'Long-poll for commands',
      description: 'Returns at once when commands are pending, otherwise waits up to `wait` seconds (0–30) for one. Each command is handed to exactly one agent and marked DELIVERED. On server shutdown, or when the agent is deleted, its token rotated or its owner suspended, a waiting poll ends with an empty list. An agent may hold a few waiting polls at once (AGENT_MAX_CONCURRENT_POLLS); one more is a 429.',
      tags: ['agent'],
      auth: 'agent',
      query: pollQuery,
      responses: {
        200: { description: 'Commands now DELIVERED to this agent (possibly none)', schema: agentPollView },
        429: { description: 'too_many_polls: this agent already holds AGENT_MAX_CONCURRENT_POLLS waiting polls (Retry-After)' },
      },
    },
    async (_req, res) => {
      const { wait, limit } = res.locals.query;
      const commands = await deps.agentCommands.poll(currentAgent(res), { waitSeconds: wait, limit }, wait > 0 ? waitSignal(res, deps.lifecycle) : deps.lifecycle.signal);
      res.json({ commands: commands.map(presentDelivered) });
    },
  );

  api.post(
    '/commands/:id/result',
    {
      summary: 'Report the result of a command delivered to this agent',
      tags: ['agent'],
      auth: 'agent',
      params: idParams,
      body: resultBody,
      responses: {
        200: { description: 'Recorded (or the same result again)', schema: commandView },
        404: { description: 'Not a command delivered to this agent' },
        409: { description: 'command_timed_out, or command_finished with a different result' },
      },
    },
    async (req, res) => {
      res.json(presentCommand(await deps.agentCommands.postResult(currentAgent(res), res.locals.params.id, res.locals.body, requestContext(req))));
    },
  );
}
