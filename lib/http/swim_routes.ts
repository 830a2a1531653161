/** Membership's internal routes: `POST /_swim/{ping,ping-req,sync}`, msgpack in and out. */
import type { RouterType } from "itty-router";
import { MAX_MESSAGE_BYTES } from "../membership/messages.ts";
import type { Swim } from "../membership/swim.ts";
import { readBodyLimited } from "./body.ts";
import { msgpackResponse } from "./errors.ts";

const KINDS = new Set(["ping", "ping-req", "sync"]);

export function addSwimRoutes(router: RouterType, swim: Swim): void {
  router.post("/_swim/:kind", async (request: Request & { params: { kind: string } }) => {
    const { kind } = request.params;
    if (!KINDS.has(kind)) return undefined; // falls through to the 404
    const body = await readBodyLimited(request, MAX_MESSAGE_BYTES);
    const reply = await swim.handle(kind, body);
    return msgpackResponse(reply);
  });
}
