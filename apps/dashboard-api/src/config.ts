// The one place that reads process.env: every setting of the service, validated once at start,
// typed and frozen. A bad value stops the start with one clear line per problem.
import path from 'node:path';
import { z } from 'zod';
import { repoRoot } from './platform/paths.ts';
import { passwordSchema } from './platform/password-policy.ts';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const positiveInt = z.coerce.number().int().positive();

/** A rate limit as "<hits>/<window seconds>", e.g. "10/900"; "0/<s>" disables the rule. */
const rateRule = (fallback: string) =>
  z
    .string()
    .regex(/^\d+\/[1-9]\d*$/, 'must look like <hits>/<window seconds>, e.g. 10/900')
    .default(fallback)
    .transform((value) => {
      const [limit, windowSeconds] = value.split('/').map(Number) as [number, number];
      return { limit, windowSeconds };
    });

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    /** Unset: an embedded PostgreSQL under DATA_DIR. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .optional(),
    DATABASE_POOL_MAX: positiveInt.default(10),
    DATA_DIR: z.string().default('.data'),
    PUBLIC_URL: z.url({ message: 'must be an absolute URL such as https://fleet.example.com' }).default('http://localhost:3000'),
    SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    SESSION_IDLE_MINUTES: positiveInt.default(30),
    SESSION_ABSOLUTE_HOURS: positiveInt.default(12),
    ADMIN_EMAIL: z.email({ message: 'must be an email address' }).optional(),
    /** The same policy as every other password (length, common list), NFC-normalised as login expects. */
    ADMIN_PASSWORD: passwordSchema.optional(),
    MIGRATE_ON_START: booleanFromEnv.default(true),
    SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
    MAIL_FROM: z.string().default('Fleet Dashboard <no-reply@localhost>'),
    /** false: this instance queues emails but does not send them (another instance does). */
    EMAIL_SENDER_ENABLED: booleanFromEnv.default(true),
    EMAIL_POLL_INTERVAL_MS: positiveInt.default(2_000),
    EMAIL_MAX_ATTEMPTS: positiveInt.default(8),
    /** First retry delay; doubled per attempt, capped at one hour. */
    EMAIL_RETRY_BASE_MS: positiveInt.default(30_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Number of reverse-proxy hops to trust for the client address; never `true`. */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    /** Comma-separated origins allowed by CORS (none by default). */
    CORS_ORIGINS: z.string().default(''),
    /** Versioned AES-256 keys for dongle tokens: "1:<base64>,2:<base64>". */
    DONGLE_TOKEN_KEYS: z.string().optional(),
    SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
    /** Set: GET /metrics requires `Authorization: Bearer <this>`. Unset: /metrics is open. */
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').regex(/^[\x21-\x7e]+$/, 'must be visible ASCII without spaces').optional(),
    /** How often agents are told to poll/heartbeat; `online` means seen within twice this. */
    AGENT_POLL_INTERVAL_SECONDS: positiveInt.max(3600).default(30),
    /** A claim not completed (token acked) within this many minutes lapses back to UNCLAIMED. */
    CLAIM_PENDING_TIMEOUT_MINUTES: positiveInt.max(7 * 24 * 60).default(15),
    CLAIM_LAPSE_INTERVAL_MS: positiveInt.default(60_000),
    /** Execution timeout of a DELIVERED command before it becomes TIMED_OUT. */
    COMMAND_TIMEOUT_SECONDS: positiveInt.max(3600).default(30),
    /** How often the sweeper applies EXPIRED / TIMED_OUT to overdue commands. */
    COMMAND_SWEEP_INTERVAL_MS: positiveInt.default(5_000),
    /** Waiting long-polls one agent may hold at once on an instance; beyond it 429 too_many_polls. */
    AGENT_MAX_CONCURRENT_POLLS: positiveInt.max(100).default(4),
    // Per-account quotas (429 quota_exceeded beyond them).
    /** Unclaimed dongles one agent may have put on record through heartbeats (unknown ids beyond it are ignored). */
    QUOTA_UNCLAIMED_DONGLES_PER_AGENT: positiveInt.default(200),
    /** Enrollment codes a user may hold unused and unexpired at once. */
    QUOTA_OPEN_ENROLLMENT_CODES_PER_USER: positiveInt.default(10),
    /** QUEUED commands one dongle may hold at once (operator commands; system ones are exempt). */
    QUOTA_QUEUED_COMMANDS_PER_DONGLE: positiveInt.default(100),
    /** Idempotency keys a user may hold (each kept 24 h). */
    QUOTA_IDEMPOTENCY_KEYS_PER_USER: positiveInt.default(10_000),
    /** Largest firmware image accepted (bytes); the one exception to the 100 kB JSON body limit. */
    FIRMWARE_MAX_BYTES: positiveInt.max(64 * 1024 * 1024).default(2 * 1024 * 1024),
    /** How often each instance's job scheduler runs a tick (hand-out, progress, abort rules). */
    JOB_TICK_MS: positiveInt.default(1_000),
    // Events, streams and webhooks (issue 13, doc/events.md).
    /** Events older than this are pruned (in batches, every EVENT_PRUNE_INTERVAL_MS). */
    EVENT_RETENTION_DAYS: positiveInt.max(3650).default(30),
    EVENT_PRUNE_INTERVAL_MS: positiveInt.default(3_600_000),
    EVENT_STREAM_HEARTBEAT_MS: positiveInt.default(15_000),
    /** Open event streams per user on one instance; beyond it 429. */
    EVENT_STREAMS_PER_USER: positiveInt.default(10),
    /** Unsent bytes a stream may hold for a slow client before it is closed with `resync`. */
    EVENT_STREAM_MAX_BUFFER_BYTES: positiveInt.default(1_048_576),
    /** How often an open stream re-checks its session / API key and membership. */
    EVENT_STREAM_RECHECK_MS: positiveInt.default(30_000),
    /** true: webhooks may target loopback, RFC 1918, CGNAT and IPv6 ULA addresses (never link-local / metadata). */
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanFromEnv.default(false),
    WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
    /** Delays before each retry, in seconds (decimals allowed); the default spans about 28 hours. */
    WEBHOOK_RETRY_SCHEDULE_SECONDS: z
      .string()
      .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'must be a comma-separated list of seconds, e.g. 5,300,1800')
      .default('5,300,1800,7200,18000,36000,36000')
      .transform((value) => value.split(',').map((s) => Math.round(Number(s) * 1000))),
    /** A webhook is disabled after this many consecutive failed attempts… */
    WEBHOOK_DISABLE_AFTER_FAILURES: positiveInt.default(10),
    /** …spanning at least this many seconds (so a short outage of a busy endpoint does not disable it). */
    WEBHOOK_DISABLE_AFTER_SECONDS: z.coerce.number().int().min(0).default(86_400),
    WEBHOOK_POLL_INTERVAL_MS: positiveInt.default(1_000),
    /** false: this instance does not run the presence worker (others do; flips are idempotent). */
    PRESENCE_WORKER_ENABLED: booleanFromEnv.default(true),
    /** How often alert rules are evaluated. */
    ALERT_EVAL_INTERVAL_MS: positiveInt.default(30_000),
    /** false: this instance queues webhook deliveries but does not send them (another instance does). */
    WEBHOOK_DELIVERY_ENABLED: booleanFromEnv.default(true),
    /** After a secret rotation the old secret still signs for this long (overridable per rotation). */
    WEBHOOK_SECRET_OVERLAP_HOURS: z.coerce.number().min(0).max(168).default(24),
    // Password hashing (§6): argon2id, never below m=19 MiB, t=2, p=1.
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(19_456, 'must be at least 19456 (19 MiB)').default(19_456),
    ARGON2_TIME_COST: z.coerce.number().int().min(2, 'must be at least 2').default(2),
    ARGON2_PARALLELISM: positiveInt.default(1),
    /** Hashes computed at once; unset: one fewer than the CPU cores (at least one). */
    ARGON2_MAX_CONCURRENT: positiveInt.optional(),
    /** Hashes waiting for a slot; beyond it requests get 503 server_busy at once. */
    ARGON2_MAX_QUEUED: z.coerce.number().int().min(0).default(32),
    // Rate limits (§6), held in PostgreSQL so they hold across instances.
    /** Failed logins per account before a lockout. */
    RATE_LIMIT_LOGIN_ACCOUNT: rateRule('10/900'),
    /** Login attempts per client IP. */
    RATE_LIMIT_LOGIN_IP: rateRule('100/900'),
    RATE_LIMIT_SIGNUP_IP: rateRule('10/3600'),
    RATE_LIMIT_RESET_IP: rateRule('10/3600'),
    /** Reset emails actually sent per address (beyond it the request still answers 202). */
    RATE_LIMIT_RESET_ACCOUNT: rateRule('3/3600'),
    RATE_LIMIT_VERIFY_IP: rateRule('30/3600'),
    RATE_LIMIT_ENROLL_IP: rateRule('20/3600'),
    /** Requests per API key (each key counts on its own). */
    RATE_LIMIT_API_KEY: rateRule('600/60'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    if (!env.SESSION_SECRET) ctx.addIssue({ code: 'custom', path: ['SESSION_SECRET'], message: 'is required in production' });
    if (!env.DONGLE_TOKEN_KEYS) ctx.addIssue({ code: 'custom', path: ['DONGLE_TOKEN_KEYS'], message: 'is required in production' });
    if (!env.DATABASE_URL) ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required in production' });
  });

export type Env = z.output<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  isProduction: boolean;
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  dataDir: string;
  publicUrl: string;
  /** True when PUBLIC_URL is https: Secure cookies with the __Host- prefix, HSTS. */
  tls: boolean;
  sessionSecret: string | undefined;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  admin: { email: string; password: string | undefined } | undefined;
  migrateOnStart: boolean;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Outbox sender: transport is smtp when SMTP_URL is set, else log. */
  email: { senderEnabled: boolean; pollIntervalMs: number; maxAttempts: number; retryBaseMs: number };
  logLevel: Env['LOG_LEVEL'];
  trustProxyHops: number;
  corsOrigins: string[];
  dongleTokenKeys: string | undefined;
  shutdownTimeoutMs: number;
  /** Bearer token /metrics requires; undefined: /metrics is open (e.g. reachable only inside the cluster). */
  metricsToken: string | undefined;
  agentPollIntervalMs: number;
  claims: { pendingTimeoutMs: number; lapseIntervalMs: number };
  commands: { timeoutSeconds: number; sweepIntervalMs: number };
  /** Waiting long-polls one agent may hold at once per instance; beyond it 429 too_many_polls. */
  agentMaxConcurrentPolls: number;
  quotas: Quotas;
  firmware: { maxBytes: number };
  jobs: { tickMs: number };
  events: { presenceEnabled: boolean; alertIntervalMs: number; retentionMs: number; pruneIntervalMs: number; heartbeatMs: number; streamsPerUser: number; maxBufferedBytes: number; recheckMs: number };
  webhooks: {
    allowPrivateNetworks: boolean;
    deliveryEnabled: boolean;
    timeoutMs: number;
    retryScheduleMs: number[];
    disableAfterFailures: number;
    disableAfterMs: number;
    pollIntervalMs: number;
    secretOverlapMs: number;
  };
  rateLimits: RateLimits;
  passwordHashing: { memoryCost: number; timeCost: number; parallelism: number; maxConcurrent: number | undefined; maxQueued: number };
}

export interface Quotas {
  unclaimedDonglesPerAgent: number;
  openEnrollmentCodesPerUser: number;
  queuedCommandsPerDongle: number;
  idempotencyKeysPerUser: number;
}

export interface RateLimitSetting {
  limit: number;
  windowSeconds: number;
}

export interface RateLimits {
  loginAccount: RateLimitSetting;
  loginIp: RateLimitSetting;
  signupIp: RateLimitSetting;
  resetIp: RateLimitSetting;
  resetAccount: RateLimitSetting;
  verifyIp: RateLimitSetting;
  enrollIp: RateLimitSetting;
  apiKey: RateLimitSetting;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment into a frozen Config, or throws ConfigError listing every bad value. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  const publicUrl = env.PUBLIC_URL.replace(/\/+$/, '');
  return Object.freeze({
    env: env.NODE_ENV,
    isProduction: env.NODE_ENV === 'production',
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    databasePoolMax: env.DATABASE_POOL_MAX,
    dataDir: path.resolve(repoRoot, env.DATA_DIR),
    publicUrl,
    tls: publicUrl.startsWith('https://'),
    sessionSecret: env.SESSION_SECRET,
    sessionIdleMs: env.SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: env.SESSION_ABSOLUTE_HOURS * 3_600_000,
    admin: env.ADMIN_EMAIL ? { email: env.ADMIN_EMAIL.toLowerCase(), password: env.ADMIN_PASSWORD } : undefined,
    migrateOnStart: env.MIGRATE_ON_START,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    email: Object.freeze({
      senderEnabled: env.EMAIL_SENDER_ENABLED,
      pollIntervalMs: env.EMAIL_POLL_INTERVAL_MS,
      maxAttempts: env.EMAIL_MAX_ATTEMPTS,
      retryBaseMs: env.EMAIL_RETRY_BASE_MS,
    }),
    logLevel: env.LOG_LEVEL,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    corsOrigins: env.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
    dongleTokenKeys: env.DONGLE_TOKEN_KEYS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    metricsToken: env.METRICS_TOKEN,
    agentPollIntervalMs: env.AGENT_POLL_INTERVAL_SECONDS * 1000,
    claims: Object.freeze({ pendingTimeoutMs: env.CLAIM_PENDING_TIMEOUT_MINUTES * 60_000, lapseIntervalMs: env.CLAIM_LAPSE_INTERVAL_MS }),
    commands: Object.freeze({ timeoutSeconds: env.COMMAND_TIMEOUT_SECONDS, sweepIntervalMs: env.COMMAND_SWEEP_INTERVAL_MS }),
    agentMaxConcurrentPolls: env.AGENT_MAX_CONCURRENT_POLLS,
    quotas: Object.freeze({
      unclaimedDonglesPerAgent: env.QUOTA_UNCLAIMED_DONGLES_PER_AGENT,
      openEnrollmentCodesPerUser: env.QUOTA_OPEN_ENROLLMENT_CODES_PER_USER,
      queuedCommandsPerDongle: env.QUOTA_QUEUED_COMMANDS_PER_DONGLE,
      idempotencyKeysPerUser: env.QUOTA_IDEMPOTENCY_KEYS_PER_USER,
    }),
    firmware: Object.freeze({ maxBytes: env.FIRMWARE_MAX_BYTES }),
    jobs: Object.freeze({ tickMs: env.JOB_TICK_MS }),
    events: Object.freeze({
      presenceEnabled: env.PRESENCE_WORKER_ENABLED,
      alertIntervalMs: env.ALERT_EVAL_INTERVAL_MS,
      retentionMs: env.EVENT_RETENTION_DAYS * 86_400_000,
      pruneIntervalMs: env.EVENT_PRUNE_INTERVAL_MS,
      heartbeatMs: env.EVENT_STREAM_HEARTBEAT_MS,
      streamsPerUser: env.EVENT_STREAMS_PER_USER,
      maxBufferedBytes: env.EVENT_STREAM_MAX_BUFFER_BYTES,
      recheckMs: env.EVENT_STREAM_RECHECK_MS,
    }),
    webhooks: Object.freeze({
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      deliveryEnabled: env.WEBHOOK_DELIVERY_ENABLED,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: Object.freeze(env.WEBHOOK_RETRY_SCHEDULE_SECONDS) as number[],
      disableAfterFailures: env.WEBHOOK_DISABLE_AFTER_FAILURES,
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
      secretOverlapMs: Math.round(env.WEBHOOK_SECRET_OVERLAP_HOURS * 3_600_000),
    }),
    passwordHashing: Object.freeze({
      memoryCost: env.ARGON2_MEMORY_KIB,
      timeCost: env.ARGON2_TIME_COST,
      parallelism: env.ARGON2_PARALLELISM,
      maxConcurrent: env.ARGON2_MAX_CONCURRENT,
      maxQueued: env.ARGON2_MAX_QUEUED,
    }),
    rateLimits: Object.freeze({
      loginAccount: env.RATE_LIMIT_LOGIN_ACCOUNT,
      loginIp: env.RATE_LIMIT_LOGIN_IP,
      signupIp: env.RATE_LIMIT_SIGNUP_IP,
      resetIp: env.RATE_LIMIT_RESET_IP,
      resetAccount: env.RATE_LIMIT_RESET_ACCOUNT,
      verifyIp: env.RATE_LIMIT_VERIFY_IP,
      enrollIp: env.RATE_LIMIT_ENROLL_IP,
      apiKey: env.RATE_LIMIT_API_KEY,
    }),
  });
}
