/**
 * What a membership change looks like to an operator: a log line (deaths as warnings,
 * suspicions left to the prober's own line) and an event in the member's explain record.
 */
import type { MemberEvents } from "../explain/events.ts";
import type { Logger } from "../log.ts";
import type { Member, MemberState, Update } from "./member.ts";
import type { SuspicionView } from "./suspicion.ts";

export function observeChange(
  log: Logger,
  events: MemberEvents,
  update: Update,
  member: Member,
  previous: MemberState | undefined,
  isNew: boolean,
  suspicion: SuspicionView | undefined,
): void {
  const { id, state, incarnation, from: by } = update;
  if (state === "suspect" && suspicion) {
    const { timeoutMs, minMs, maxMs } = suspicion;
    events.record(id, "suspected", { by, incarnation, timeoutMs, minMs, maxMs });
  } else if (state === "alive") {
    events.record(id, isNew ? "joined" : previous === "alive" ? "alive" : "refuted", { by, incarnation, was: previous ?? "unknown" });
  } else if (state !== "suspect") {
    events.record(id, state, { by, incarnation });
  }
  const fields = { id: member.id, incarnation: member.incarnation, was: previous ?? "unknown" };
  if (member.state === "dead") log.warn("member dead", fields);
  else if (member.state !== "suspect") log.info(`member ${member.state}`, fields);
}
