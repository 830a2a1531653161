/** What `mod.ts simulate` prints for people: a progress line while it runs, and the report. */
import type { ExperimentOptions, ExperimentResult, Progress } from "./experiment.ts";

const seconds = (ms: number | null) => (ms === null ? "not within the limit" : `${(ms / 1000).toFixed(1)} s`);

export function progressLine(p: Progress, nodes: number): string {
  return `${p.phase}: virtual ${seconds(p.virtualMs)}, wall ${seconds(p.wallMs)}: ${p.converged}/${nodes} list everyone alive, ${p.ringed}/${nodes} hold the full ring`;
}

export function simulationReport(o: ExperimentOptions, r: ExperimentResult): string {
  const rate = r.wallMs > 0 ? (r.virtualMs / r.wallMs).toFixed(1) : "-";
  const lines = [
    `simulated ${o.nodes} nodes, seed ${o.seed}, ${(o.loss * 100).toFixed(1)}% loss, ${o.minDelayMs}-${o.maxDelayMs} ms delay, ${o.crash} crashed`,
    `  members converged   ${seconds(r.joinConvergedMs)} after the first start (${r.distinctViews} distinct membership sizes seen on the way)`,
    `  ring converged      ${seconds(r.ringConvergedMs)} after the first start, at epoch ${r.epochs} (${r.distinctRingSizes} distinct ring sizes seen on the way)`,
    `  quiet member sends  ${r.messagesPerMemberPerPeriod} messages, ${r.bytesPerMemberPerPeriod} bytes a protocol period`,
  ];
  const f = o.faults;
  if (f?.lossy || f?.slow) {
    lines.push(`  faulty from start   ${[f.lossy && `${f.lossy.members} lossy (${(f.lossy.loss * 100).toFixed(0)}%)`, f.slow && `${f.slow.members} slow (+${f.slow.delayMs} ms)`].filter(Boolean).join(", ")}`);
  }
  if (f?.partition) lines.push(`  partition           ${f.partition.members} cut off for ${seconds(f.partition.forMs)}; converged again ${seconds(r.partitionHealedMs ?? null)} after the heal; ${r.partitionDeclaredDead} members declared dead on the way`);
  if (o.crash > 0) lines.push(`  detection           first suspicion ${seconds(r.detection.firstMs)}, first declared dead ${seconds(r.detection.declaredMs)}, every survivor sees every crashed member dead ${seconds(r.detection.allMs)}, and every ring is without them ${seconds(r.detection.removedMs)} (${seconds(r.removal.spreadMs)} after the first)`);
  if (r.rejoinConvergedMs !== undefined) lines.push(`  rejoin              converged again ${seconds(r.rejoinConvergedMs)} after the crashed members started again; the change of owners that took them back ${seconds(r.rejoinTransitionMs ?? null)} from its first epoch to its last`);
  lines.push(
    `  false positives     ${r.falsePositives}${f?.lossy ? ` (and ${r.lossyDeclaredDead} lossy members declared dead, taken back ${r.lossyRevived} times)` : ""}; ${r.healthySuspected} healthy members suspected`,
    `  time                ${seconds(r.virtualMs)} virtual in ${seconds(r.wallMs)} of wall time (${rate} virtual s per wall s)`,
  );
  return lines.join("\n");
}

/** 0 when every phase finished within the limit, 1 when one did not. */
export function simulationExitCode(o: ExperimentOptions, r: ExperimentResult): number {
  const detected = o.crash === 0 || (r.detection.allMs !== null && r.detection.removedMs !== null);
  const finished = [r.joinConvergedMs, r.ringConvergedMs, r.partitionHealedMs, r.rejoinConvergedMs].every((ms) => ms !== null);
  return finished && detected ? 0 : 1;
}
