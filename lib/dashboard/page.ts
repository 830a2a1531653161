/**
 * The dashboard every node serves at `GET /`: one HTML page with its CSS and script
 * inline, no build step. The script (client.ts) polls this node's JSON views, so the page
 * costs nothing while nobody has it open.
 */
import { CLIENT_SCRIPT } from "./client.ts";
import { RECOVER_SCRIPT } from "./recover.ts";

const STYLE = String.raw`
:root { font: 13px/1.4 system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
body { margin: 0; }
header { display: flex; gap: 1.5em; align-items: baseline; padding: .6em 1em; background: #1d2330; color: #f5f6f8; }
header h1 { font-size: 1.1em; margin: 0; }
header .bad { color: #ff8a80; } header .good { color: #a5d6a7; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1em; padding: 1em; }
section { background: #fff; border-radius: 6px; padding: .6em .8em; box-shadow: 0 1px 2px #0002; min-width: 0; }
section h2 { font-size: 1em; margin: 0 0 .4em; }
.scroll { max-height: 24em; overflow: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .15em .5em; white-space: nowrap; }
th { position: sticky; top: 0; background: #fff; font-weight: 600; }
tr[data-member] { cursor: pointer; }
tr[data-member]:hover { background: #eef2ff; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 50%; margin-right: .4em; vertical-align: -1px; }
.state { font-weight: 600; }
[data-state="alive"] .state { color: #2e7d32; } [data-state="suspect"] .state { color: #ef6c00; }
[data-state="dead"] .state { color: #c62828; } [data-state="left"] .state { color: #757575; }
#ring { width: 100%; max-width: 420px; aspect-ratio: 1; display: block; margin: auto; }
.legend span { margin-right: 1em; }
input { font: inherit; padding: .2em .4em; }
ol#events { list-style: none; padding: 0; margin: 0; font-family: ui-monospace, monospace; font-size: .92em; }
ol#events li { padding: .05em 0; border-bottom: 1px solid #f0f0f0; }
.muted { color: #757575; }
.bad { color: #c62828; }
#recover-ranges li { font-family: ui-monospace, monospace; font-size: .92em; }
#explain li, #copies li { font-family: ui-monospace, monospace; }
`;

export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dht-node</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>dht-node</h1>
  <span>via <b id="self">…</b></span>
  <span>epoch <b id="epoch">…</b> <span id="phase"></span></span>
  <span>checksum <b id="checksum">…</b></span>
  <span id="agreement" data-agreed="">…</span>
  <span id="connection" class="muted"></span>
</header>
<main>
  <section>
    <h2>Members <input id="filter" placeholder="filter" size="14"> <span id="counts" class="muted"></span></h2>
    <div class="scroll">
      <table>
        <thead><tr><th>member</th><th>state</th><th>runtime</th><th>inc.</th><th>health</th><th>keys</th><th>since</th><th>ring</th></tr></thead>
        <tbody id="members"></tbody>
      </table>
    </div>
  </section>
  <section>
    <h2>Ring</h2>
    <canvas id="ring" width="840" height="840"></canvas>
    <div class="legend muted"><span>outer: owner of each range</span><span>inner: red, too few live owners for a quorum (or a range that lost its quorum); amber, moving</span></div>
    <div id="quorum" class="muted"></div>
    <div id="next-change" class="muted"></div>
    <div id="recover-box" hidden>
      <button id="recover-open">Recover the ranges that lost their quorum…</button>
      <div id="recover-plan" hidden>
        <ol id="recover-ranges"></ol>
        <p id="recover-warning" class="bad"></p>
        <label>Type <b>yes</b> to give these ranges to their surviving owners, keeping only what is said above: <input id="recover-yes" size="4"></label>
        <button id="recover-confirm" disabled>Recover</button> <button id="recover-cancel">Cancel</button>
      </div>
    </div>
    <div id="recover-result" class="muted"></div>
  </section>
  <section>
    <h2>Where does this key live?</h2>
    <form id="lookup"><input id="key" placeholder="key" size="24"> <button>look up</button></form>
    <div id="placement" class="muted"></div>
    <ol id="copies"></ol>
  </section>
  <section>
    <h2>Why? <span id="explained" class="muted">click a member</span></h2>
    <div class="scroll"><ol id="explain"></ol></div>
  </section>
  <section>
    <h2>Stabilisation</h2>
    <div class="scroll">
      <table>
        <thead><tr><th>from</th><th>to</th><th>pass</th><th>pushed / wanted</th><th>keys/s</th><th>KB/s</th><th>left</th></tr></thead>
        <tbody id="transfers"></tbody>
      </table>
      <div id="rounds" class="muted"></div>
      <div id="hints" class="muted"></div>
    </div>
  </section>
  <section>
    <h2>Events</h2>
    <div class="scroll"><ol id="events"></ol></div>
  </section>
</main>
<script>${CLIENT_SCRIPT}${RECOVER_SCRIPT}</script>
</body>
</html>
`;
