/**
 * What a node is doing with its life, read by several parts and owned by none of them:
 * whether it is leaving (replicas refuse writes, stabilisation gives everything away).
 */
export class NodeState {
  #leaving = false;

  get leaving(): boolean {
    return this.#leaving;
  }

  /** Once leaving, always leaving: a process that left rejoins as a new one. */
  startLeaving(): void {
    this.#leaving = true;
  }
}
