#!/usr/bin/env -S npx tsx
// agent-sim: a simulated desktop agent on the command line.
//
//   npm start -w apps/agent-sim -- --url http://localhost:3000 --code <enrollment code> --dongles 3 --heartbeat 5
//   npm start -w apps/agent-sim -- --url http://localhost:3000 --token <agent token> --seed my-pc
//
// Enrolling prints the agent token once; pass it as --token next time (with the same --seed,
// the same dongles are reported again). Stops cleanly on Ctrl-C / SIGTERM.
import { parseArgs } from 'node:util';
import { AgentSimulator } from './simulator.ts';

const usage = `usage: agent-sim --url URL (--code ENROLLMENT_CODE | --token AGENT_TOKEN)
                 [--dongles N | --device-id HEX16 ...] [--seed TEXT] [--name NAME] [--wait SECONDS] [--heartbeat SECONDS]
                 [--chip FAMILY] [--board REVISION] [--fail-share 0..1] [--trust-key BASE64 ...]`;

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.FLEET_URL ?? 'http://localhost:3000' },
      code: { type: 'string' },
      token: { type: 'string', default: process.env.FLEET_AGENT_TOKEN },
      dongles: { type: 'string', default: '2' },
      'device-id': { type: 'string', multiple: true },
      seed: { type: 'string' },
      name: { type: 'string', default: 'agent-sim' },
      wait: { type: 'string', default: '30' },
      heartbeat: { type: 'string' },
      chip: { type: 'string', default: 'stm32g4' },
      board: { type: 'string', default: 'rev-b' },
      'fail-share': { type: 'string', default: '0' },
      'trust-key': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (!values.code && !values.token)) {
    console.log(usage);
    process.exit(values.help ? 0 : 64);
  }
  const dongleCount = Number(values.dongles);
  if (!Number.isInteger(dongleCount) || dongleCount < 0 || dongleCount > 64) throw new Error('--dongles must be 0–64');

  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const sim = new AgentSimulator({
    baseUrl: values.url!,
    token: values.token,
    name: values.name,
    dongles: values['device-id']?.length ? values['device-id'].map((id) => id.trim().toLowerCase()) : dongleCount,
    seed: values.seed ?? values.name,
    pollWaitSeconds: Number(values.wait),
    // Default: the interval the server's heartbeat answer asks for (30 s); shorter makes demos snappier.
    heartbeatIntervalMs: values.heartbeat ? Number(values.heartbeat) * 1_000 : undefined,
    log,
    hardware: { chipFamily: values.chip!, boardRevision: values.board! },
    failShare: Number(values['fail-share']),
    trustedKeys: values['trust-key'],
  });
  if (!values.token) {
    const { token } = await sim.enroll(values.code!);
    console.log(`\n  Agent token (shown once; reuse it with --token):\n  ${token}\n`);
  }
  log(`reporting dongles: ${sim.dongles.map((d) => d.deviceId).join(', ') || '(none)'}`);
  await sim.heartbeat();
  sim.start();
  log('polling for commands; Ctrl-C to stop');

  const stop = async () => {
    log('stopping');
    await sim.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`agent-sim: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
