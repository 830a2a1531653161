/**
 * The dashboard's way out of a lost quorum: a button shown while ranges have lost a quorum
 * of their owners, which lists them with what recovering each keeps (`GET /cluster/recover`)
 * and, only after the operator types "yes", gives exactly those ranges to their surviving
 * owners (`POST /cluster/recover`), as `mod.ts recover` does. Runs in the page's script,
 * after client.ts (its `$`, `h`, `get` and `view`).
 */
export const RECOVER_SCRIPT = String.raw`
const recovery = { ranges: [] };

function showRecover(lost) {
  $("recover-box").hidden = lost === 0;
  $("recover-open").dataset.lost = String(lost);
}

async function openRecover() {
  const data = await get("/cluster/recover");
  recovery.ranges = data.ranges.map((r) => r.range);
  $("recover-ranges").replaceChildren(...data.ranges.map((r) => h("li", { "data-range": r.range },
    r.range + ": owners " + r.owners.join(", ") + "; dead " + r.dead.join(", ") + "; to " + (r.survivors.join(", ") || "the ring's owners, empty") + ". " + r.says)));
  $("recover-warning").textContent = "Warning: " + data.warning;
  $("recover-yes").value = "";
  $("recover-confirm").disabled = true;
  $("recover-plan").hidden = false;
}

async function confirmRecover() {
  const res = await window.fetch("/cluster/recover", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ranges: recovery.ranges, by: "the dashboard at " + location.host }),
  });
  const data = await res.json();
  $("recover-plan").hidden = true;
  $("recover-result").textContent = res.ok
    ? "recovered " + data.recovered.length + " ranges in epoch " + data.epoch + " (recorded in the ring and the event log)"
    : "not recovered: " + data.error;
  $("recover-result").dataset.done = String(res.ok);
}

$("recover-open").addEventListener("click", () => openRecover().catch((err) => ($("recover-result").textContent = err.message)));
$("recover-yes").addEventListener("input", () => ($("recover-confirm").disabled = $("recover-yes").value.trim() !== "yes"));
$("recover-cancel").addEventListener("click", () => ($("recover-plan").hidden = true));
$("recover-confirm").addEventListener("click", () => confirmRecover().catch((err) => ($("recover-result").textContent = err.message)));
`;
