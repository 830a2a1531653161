/**
 * The consistent-hash ring: each member owns virtual nodes at fixed positions, and a key
 * belongs to the first N distinct members clockwise from its position.
 *
 * Pure and synchronous: positions are computed elsewhere (hash.ts) and handed in, so the
 * ring can be tested as data. Which members are on it is the agreed epoch's business
 * (topology/placement.ts builds one ring per member list); adding or removing members
 * touches only their virtual nodes, merged in on the next read.
 */

export interface VirtualNode {
  position: bigint;
  member: string;
}

export class Ring {
  /** Sorted by position, then member id (so equal positions order the same everywhere). */
  #vnodes: VirtualNode[] = [];
  readonly #members = new Map<string, readonly bigint[]>();
  /** Changes not yet merged into #vnodes: member → new positions, or undefined to remove. */
  readonly #pending = new Map<string, readonly bigint[] | undefined>();
  #generation = 0;
  #checksum: { generation: number; value: string } | undefined;
  /**
   * Preference lists already worked out, by first vnode and length (`start * 64 + n`): a list
   * depends on nothing else, and every request and every key of a stabilisation scan asks
   * for one. Emptied when the ring changes.
   */
  readonly #lists = new Map<number, readonly string[]>();
  /** Each vnode's position as its high and low 32 bits, in the order of #vnodes. */
  #highs = new Uint32Array(0);
  #lows = new Uint32Array(0);

  /** Counts the changes merged so far: equal generations on one node mean the same ring. */
  get generation(): number {
    this.#flush();
    return this.#generation;
  }

  get size(): number {
    this.#flush();
    return this.#members.size;
  }

  members(): string[] {
    this.#flush();
    return [...this.#members.keys()].sort();
  }

  has(member: string): boolean {
    if (this.#pending.has(member)) return this.#pending.get(member) !== undefined;
    return this.#members.has(member);
  }

  vnodes(): readonly VirtualNode[] {
    this.#flush();
    return this.#vnodes;
  }

  /** Places `member` at `positions`, replacing any it had. */
  add(member: string, positions: readonly bigint[]): void {
    this.#pending.set(member, positions);
  }

  remove(member: string): void {
    this.#pending.set(member, undefined);
  }

  /** The first `n` distinct members clockwise from `position` (fewer if the ring has fewer); shared, so never to be changed. */
  preferenceList(position: bigint, n: number): readonly string[] {
    this.#flush();
    return this.#listFrom(firstAtOrAfter(this.#vnodes, position), n);
  }

  /**
   * `preferenceList` for a position given as its two 32-bit halves (`high`, `low`), found
   * without BigInt arithmetic: the stabilisation scan asks this for every stored key.
   */
  preferenceListOfHalves(high: number, low: number, n: number): readonly string[] {
    this.#flush();
    const highs = this.#highs;
    const lows = this.#lows;
    let lo = 0;
    let hi = highs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (highs[mid]! < high || (highs[mid] === high && lows[mid]! < low)) lo = mid + 1;
      else hi = mid;
    }
    return this.#listFrom(lo === highs.length ? 0 : lo, n);
  }

  #listFrom(start: number, n: number): readonly string[] {
    const vnodes = this.#vnodes;
    const want = Math.min(n, this.#members.size);
    if (want === 0) return NOBODY;
    const cacheKey = want < 64 ? start * 64 + want : -1;
    const known = this.#lists.get(cacheKey);
    if (known) return known;
    const result: string[] = [];
    for (let step = 0; step < vnodes.length && result.length < want; step++) {
      const member = vnodes[(start + step) % vnodes.length]!.member;
      if (!result.includes(member)) result.push(member);
    }
    if (cacheKey >= 0) this.#lists.set(cacheKey, result);
    return result;
  }

  /** The member owning `position`: the first on its preference list. */
  primary(position: bigint): string | undefined {
    return this.preferenceList(position, 1)[0];
  }

  /**
   * A short fingerprint of the ring (members and every virtual node position), equal on
   * every node that agrees on it: FNV-1a, 32 bits, as 8 hex digits.
   */
  checksum(): string {
    this.#flush();
    if (this.#checksum?.generation === this.#generation) return this.#checksum.value;
    let h = 0x811c9dc5;
    const mix = (text: string) => {
      for (let i = 0; i < text.length; i++) {
        h ^= text.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
      }
    };
    for (const v of this.#vnodes) mix(`${v.position.toString(16)}@${v.member};`);
    const value = h.toString(16).padStart(8, "0");
    this.#checksum = { generation: this.#generation, value };
    return value;
  }

  #flush(): void {
    if (this.#pending.size === 0) return;
    this.#merge();
    this.#lists.clear();
    this.#highs = Uint32Array.from(this.#vnodes, (v) => Number(v.position >> 32n));
    this.#lows = Uint32Array.from(this.#vnodes, (v) => Number(v.position & 0xffff_ffffn));
  }

  #merge(): void {
    const changes = [...this.#pending];
    this.#pending.clear();
    this.#generation++;
    const drop = new Set(changes.map(([m]) => m).filter((m) => this.#members.has(m)));
    if (drop.size > 0) {
      for (const m of drop) this.#members.delete(m);
      this.#vnodes = this.#vnodes.filter((v) => !drop.has(v.member));
    }
    const added: VirtualNode[] = [];
    for (const [member, positions] of changes) {
      if (!positions) continue;
      this.#members.set(member, positions);
      for (const position of positions) added.push({ position, member });
    }
    if (added.length === 0) return;
    added.sort(compareVnodes);
    const merged: VirtualNode[] = [];
    let i = 0;
    let j = 0;
    while (i < this.#vnodes.length || j < added.length) {
      if (j >= added.length || (i < this.#vnodes.length && compareVnodes(this.#vnodes[i]!, added[j]!) <= 0)) {
        merged.push(this.#vnodes[i++]!);
      } else {
        merged.push(added[j++]!);
      }
    }
    this.#vnodes = merged;
  }
}

const NOBODY: readonly string[] = [];

function compareVnodes(a: VirtualNode, b: VirtualNode): number {
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return a.member < b.member ? -1 : a.member > b.member ? 1 : 0;
}

/** Index of the first vnode at or after `position`, wrapping to 0 past the end. */
function firstAtOrAfter(vnodes: readonly VirtualNode[], position: bigint): number {
  let lo = 0;
  let hi = vnodes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (vnodes[mid]!.position < position) lo = mid + 1;
    else hi = mid;
  }
  return lo === vnodes.length ? 0 : lo;
}
