/** Membership's metrics: gauges read from the live table, counters bumped by the protocol. */
import type { Metrics } from "../metrics.ts";
import type { MemberState } from "./member.ts";

export interface SwimGauges {
  members(): Array<{ state: MemberState }>;
  readonly gossipDepth: number;
  readonly awarenessScore: number;
  readonly incarnation: number;
}

export type SwimStats = ReturnType<typeof swimMetrics>;

export function swimMetrics(metrics: Metrics, swim: SwimGauges) {
  metrics.gauge("dht_swim_members", "Members known, by state, self included", () => {
    const counts: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of swim.members()) counts[m.state]++;
    return Object.entries(counts).map(([state, n]) => [{ state }, n]);
  });
  metrics.gauge("dht_swim_gossip_queue_depth", "Membership updates waiting to be piggybacked", () => swim.gossipDepth);
  metrics.gauge("dht_swim_awareness", "Lifeguard local health score (0 is healthy)", () => swim.awarenessScore);
  metrics.gauge("dht_swim_incarnation", "This node's incarnation number", () => swim.incarnation);
  return {
    probes: metrics.counter("dht_swim_probes_total", "Members probed"),
    pingReqs: metrics.counter("dht_swim_ping_reqs_total", "Indirect probes requested"),
    nacks: metrics.counter("dht_swim_nacks_total", "Nacks received from indirect probes"),
    suspicions: metrics.counter("dht_swim_suspicions_total", "Suspicions started here"),
    refutations: metrics.counter("dht_swim_refutations_total", "Suspicions of this node refuted"),
    membersRefused: metrics.counter("dht_swim_members_refused_total", "News of members not yet known dropped because the table held MAX_LIVE_MEMBERS alive or suspect"),
    sent: metrics.counter("dht_swim_messages_sent_total", "SWIM messages sent, by type", ["type"]),
    sentBytes: metrics.counter("dht_swim_bytes_sent_total", "SWIM bytes sent, by type", ["type"]),
    received: metrics.counter("dht_swim_messages_received_total", "SWIM messages received, by type", ["type"]),
    receivedBytes: metrics.counter("dht_swim_bytes_received_total", "SWIM bytes received, by type", ["type"]),
  };
}
