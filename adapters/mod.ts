/** Picks the adapter for the runtime this process is running on. */
import type { Adapter } from "./types.ts";

export type Runtime = Adapter["runtime"];

export function detectRuntime(): Runtime {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** Imported lazily so that no runtime ever loads another runtime's adapter. */
export async function loadAdapter(runtime: Runtime = detectRuntime()): Promise<Adapter> {
  switch (runtime) {
    case "bun":
      return (await import("./bun.ts")).adapter;
    case "deno":
      return (await import("./deno.ts")).adapter;
    case "node":
      return (await import("./node.ts")).adapter;
  }
}
