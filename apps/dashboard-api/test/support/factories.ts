// Factories: each test builds its own owner and data with unique values, so tests never wipe
// tables and never collide, even in parallel.
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import type { Database } from '../../src/platform/database.ts';
import { generateSecret, sha256Hex } from '../../src/platform/secrets.ts';
import { personalOrganizationId } from '../../src/features/organizations/personal.ts';
import { sharedHasher } from './test-app.ts';

export const DEFAULT_PASSWORD = 'correct horse battery staple';

let defaultHash: Promise<string> | undefined;
const hashFor = (password: string) =>
  password === DEFAULT_PASSWORD ? (defaultHash ??= sharedHasher.hash(DEFAULT_PASSWORD)) : sharedHasher.hash(password);

export const uniqueEmail = (label = 'user') => `${label}-${randomBytes(5).toString('hex')}@example.test`;
export const randomDeviceId = () => randomBytes(8).toString('hex');

export interface UserOptions {
  email?: string;
  password?: string;
  role?: 'user' | 'admin';
  status?: 'active' | 'suspended';
  verified?: boolean;
}

export async function createUser(db: Database, options: UserOptions = {}) {
  const password = options.password ?? DEFAULT_PASSWORD;
  const user = await db.prisma.user.create({
    data: {
      email: (options.email ?? uniqueEmail(options.role ?? 'user')).toLowerCase(),
      passwordHash: await hashFor(password),
      role: options.role ?? 'user',
      status: options.status ?? 'active',
      emailVerifiedAt: options.verified === false ? null : new Date(),
    },
  });
  return { ...user, password };
}

export interface LoggedIn {
  /** A supertest agent that keeps the session cookie. */
  agent: ReturnType<typeof supertest.agent>;
  csrfToken: string;
  cookie: string;
}

export async function login(baseUrl: string, email: string, password = DEFAULT_PASSWORD): Promise<LoggedIn> {
  const agent = supertest.agent(baseUrl);
  const res = await agent.post('/api/auth/login').send({ email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  const cookie = String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  return { agent, csrfToken: res.body.csrfToken as string, cookie };
}

/** A user plus a logged-in client for them. */
export async function createLoggedInUser(db: Database, baseUrl: string, options: UserOptions = {}) {
  const user = await createUser(db, options);
  return { user, ...(await login(baseUrl, user.email, user.password)) };
}

/**
 * An enrolled agent with a live bearer token (inserted directly; enrollment has its own tests),
 * in the given organization or the user's personal one.
 */
export async function createAgent(db: Database, userId: string, name = 'bench-pc', organizationId?: string) {
  const token = generateSecret();
  const agent = await db.prisma.agent.create({
    data: { userId, organizationId: organizationId ?? (await personalOrganizationId(db.prisma, userId)), name, hostname: `${name}.local`, os: 'linux', version: '1.0.0', lastSeenAt: new Date(), tokens: { create: { tokenHash: sha256Hex(token) } } },
  });
  return { agent, token, authorization: `Bearer ${token}` };
}

export async function createDongle(
  db: Database,
  options: { ownerUserId?: string; state?: 'UNCLAIMED' | 'CLAIM_PENDING' | 'CLAIMED_ACTIVE' | 'RELEASE_PENDING'; lastSeenAgentId?: string; deviceId?: string } = {},
) {
  const state = options.state ?? (options.ownerUserId ? 'CLAIMED_ACTIVE' : 'UNCLAIMED');
  return db.prisma.dongle.create({
    data: {
      deviceId: options.deviceId ?? randomDeviceId(),
      ownerUserId: state === 'UNCLAIMED' ? null : options.ownerUserId,
      ownershipState: state,
      lastSeenAgentId: options.lastSeenAgentId ?? null,
      lastSeenAt: options.lastSeenAgentId ? new Date() : null,
    },
  });
}
