/**
 * Ring positions: the first 8 bytes of SHA-256 (crypto.subtle), read as an unsigned 64-bit
 * integer. The same function places keys and virtual nodes, on every runtime alike.
 */

const encoder = new TextEncoder();

export async function ringPosition(text: string): Promise<bigint> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return new DataView(digest).getBigUint64(0);
}

/** A virtual node's name: the member id and the vnode's index. */
export function vnodeName(member: string, index: number): string {
  return `${member}#${index}`;
}

/**
 * Positions are a pure function of (member, count), memoized for the process: a member
 * that comes back costs no hashing, and the simulator's nodes, which share a process,
 * hash each member once instead of once per node (200 nodes: 5 million digests → 25,000).
 */
const memo = new Map<string, Promise<readonly bigint[]>>();
const MEMO_LIMIT = 50_000;

/** The positions of a member's `count` virtual nodes. */
export function vnodePositions(member: string, count: number): Promise<readonly bigint[]> {
  const key = `${count} ${member}`;
  let positions = memo.get(key);
  if (!positions) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    positions = Promise.all(Array.from({ length: count }, (_, i) => ringPosition(vnodeName(member, i))));
    memo.set(key, positions);
  }
  return positions;
}

/** Fixed-width hex: sorts like the number, and reads well in JSON. */
export function positionHex(position: bigint): string {
  return position.toString(16).padStart(16, "0");
}
