/**
 * A graceful leave, in order: out of the ring (an agreed epoch without this node, while it
 * still answers as a member), then every key handed to its new owners, then `left`
 * announced to the membership. Bounded by --leave-timeout-ms overall.
 */
import type { Env } from "./env.ts";
import { isGone } from "./membership/member.ts";
import type { Swim } from "./membership/swim.ts";
import type { Syncer } from "./sync/syncer.ts";
import type { Topology } from "./topology/topology.ts";

export interface LeaveParts {
  swim: Swim;
  topology: Topology;
  syncer: Syncer;
  env: Pick<Env, "clock" | "log">;
  leaveTimeoutMs: number;
  keys: () => number;
}

export async function leaveGracefully({ swim, topology, syncer, env, leaveTimeoutMs, keys }: LeaveParts): Promise<void> {
  const { clock, log } = env;
  log.info("leaving the ring before handing off", { keys: keys() });
  const deadline = clock.monotonicMs() + leaveTimeoutMs;
  const out = await leaveRing({ swim, topology, clock }, deadline);
  if (!out) log.warn("leaving while still a member of the ring", { epoch: topology.epoch });
  const { handedOff, remaining } = await syncer.leave(Math.max(0, deadline - clock.monotonicMs()));
  if (handedOff) log.info("data handed off", {});
  else log.warn("leaving with data not confirmed by its new owners", { keys: remaining });
  await swim.leave();
}

/**
 * Says it is leaving and waits until an epoch without this node is decided; gives up at
 * the deadline, or at once when every other member is leaving or gone too (nobody to
 * take over).
 */
async function leaveRing({ swim, topology, clock }: Pick<LeaveParts, "swim" | "topology"> & { clock: Env["clock"] }, deadline: number): Promise<boolean> {
  topology.startLeaving();
  for (;;) {
    if (!topology.isMember) return true;
    const gone = (id: string) => {
      const state = swim.member(id)?.state;
      return state === undefined || isGone(state);
    };
    if (topology.staying().every(gone)) return false;
    if (clock.monotonicMs() >= deadline) return false;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 100));
  }
}
