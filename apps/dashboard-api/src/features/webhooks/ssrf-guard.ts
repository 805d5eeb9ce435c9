// Which addresses an outbound webhook may reach (SSRF protection).
//
// A webhook URL is chosen by an organization admin, and the request leaves from inside our
// network, so the URL must not be a way to reach the database, the cloud metadata service or an
// internal admin page. The check runs on the address we actually connect to: the URL's host is
// resolved once here, every resolved address must pass, and the connection is opened to that
// address (pinned), so a DNS answer that changes between check and connect cannot slip through.
// Redirects are never followed (a 3xx counts as a failed delivery), so no hop escapes the check.
//
// WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (for on-premises receivers and the tests) allows loopback,
// RFC 1918, CGNAT and IPv6 unique-local addresses; link-local (which includes the metadata
// address 169.254.169.254), unspecified, multicast, reserved and IPv4-mapped IPv6 stay refused.
import { lookup } from 'node:dns/promises';
import net from 'node:net';

export interface AddressPolicy {
  allowPrivateNetworks: boolean;
}

const ranges = (list: [string, number, 'ipv4' | 'ipv6'][]) => {
  const blocks = new net.BlockList();
  for (const [address, prefix, family] of list) blocks.addSubnet(address, prefix, family);
  return blocks;
};

/** Private networks: reachable only with allowPrivateNetworks. */
const PRIVATE = ranges([
  ['127.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // CGNAT
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'], // unique local
]);

/** Never reachable. */
const FORBIDDEN = ranges([
  ['0.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'], // NAT64
  ['100::', 64, 'ipv6'], // discard
  ['2001:db8::', 32, 'ipv6'], // documentation
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
]);

export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
  readonly code = 'address_refused';
}

/** Why `address` may not be reached, or null when it may. */
export function refusalReason(address: string, policy: AddressPolicy): string | null {
  const family = net.isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) would smuggle any IPv4 address past the v6 rules. Checked
  // by hand: net.BlockList matches IPv4 addresses against a ::ffff:0:0/96 rule too.
  if (family === 6 && new net.SocketAddress({ address, family: 'ipv6' }).address.toLowerCase().startsWith('::ffff:')) {
    return `${address} is an IPv4-mapped IPv6 address`;
  }
  if (FORBIDDEN.check(address, type)) return `${address} is a reserved, link-local or metadata address`;
  if (PRIVATE.check(address, type) && !policy.allowPrivateNetworks) return `${address} is a loopback or private address`;
  return null;
}

/** The URL host without IPv6 brackets. */
export const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves the URL's host and returns the one address to connect to, or throws
 * RefusedAddressError when any resolved address is refused (one bad answer refuses the host:
 * otherwise a name with a public and a private record would pass sometimes).
 */
export async function resolvePinnedAddress(url: URL, policy: AddressPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const host = bareHost(url);
  const literal = net.isIP(host);
  const answers = literal ? [{ address: host, family: literal }] : await lookup(host, { all: true, verbatim: true });
  if (answers.length === 0) throw new RefusedAddressError(`${host} does not resolve`);
  for (const answer of answers) {
    const reason = refusalReason(answer.address, policy);
    if (reason) throw new RefusedAddressError(literal ? reason : `${host} resolves to ${reason}`);
  }
  const first = answers[0]!;
  return { address: first.address, family: first.family as 4 | 6 };
}

/** Shape rules checked when a webhook is saved (the address check repeats at every delivery). */
export function urlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.hash) return 'must not contain a fragment';
  return null;
}
