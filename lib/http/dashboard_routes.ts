/** `GET /`: the dashboard (lib/dashboard/), one static page that polls this node's JSON views. */
import type { RouterType } from "itty-router";
import { DASHBOARD_HTML } from "../dashboard/page.ts";

export function addDashboardRoutes(router: RouterType): void {
  router.get("/", () => new Response(DASHBOARD_HTML, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" } }));
}
