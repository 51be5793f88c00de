// The live panels: ticks as they become final (the node's event stream), the ring, the
// clock and intake (polled from /v1/network and /v1/history every 2 s), and the page's
// state (ok, unsynchronised, or down when the node stops answering).
// Owns: the polling loop and those panels' DOM. Never: writes to the node.
import { $, getJson, isoSecond, ms, row } from './util.js';
import { COLOURS, lineChart } from './charts.js';

const TICK_ROWS = 12;
const POLL_MS = 2000;

let lastHeight = 0;
let lastSecond = null;
let skipped = 0;

function setState(state, text) {
  const el = $('state');
  el.dataset.state = state;
  el.textContent = text;
}

function showTick(t) {
  const height = Number(t.height);
  if (height <= lastHeight) return;
  const body = $('ticks').tBodies[0];
  if (lastSecond !== null && Number(t.second) > lastSecond + 1 && height === lastHeight + 1) {
    // Seconds without a tick: shown as a gap.
    const gap = Number(t.second) - lastSecond - 1;
    skipped += gap;
    const tr = row(['', `${gap} second${gap === 1 ? '' : 's'} without a tick`, '', '']);
    tr.className = 'gap';
    body.prepend(tr);
  }
  lastHeight = height;
  lastSecond = Number(t.second);
  const width = t.window ? ms(t.window.latest - t.window.earliest) + ' wide' : 'descendant';
  body.prepend(row([t.height, isoSecond(t.second), width, t.batch_count]));
  while (body.rows.length > TICK_ROWS) body.deleteRow(body.rows.length - 1);
  $('height').textContent = String(t.height);
  $('height').dataset.height = String(t.height);
  $('second').textContent = isoSecond(t.second);
  $('skipped').textContent = String(skipped);
}

function follow() {
  const events = new EventSource('/v1/ticks/stream');
  events.addEventListener('tick', (e) => showTick(JSON.parse(e.data)));
  // The browser reconnects by itself after an error or the stream's lifetime.
}

const lagChart = lineChart($('lag-chart'), COLOURS, 'ms');
const clockChart = lineChart($('clock-chart'), COLOURS, 'offset ms');

function showHistory(h) {
  const samples = h.samples.filter((s) => s.height > 0);
  const xs = samples.map((s) => s.at_ns / 1e9);
  lagChart.update(xs, { 'finalization lag': samples.map((s) => s.lag_ns / 1e6) });
  const names = [...new Set(h.samples.flatMap((s) => s.sources.map((src) => src.name)))];
  const all = h.samples.map((s) => s.at_ns / 1e9);
  const ys = { 'interval width': h.samples.map((s) => s.width_ns / 1e6) };
  for (const name of names) {
    ys[name] = h.samples.map((s) => {
      const src = s.sources.find((x) => x.name === name);
      return src ? src.offset_ns / 1e6 : null;
    });
  }
  clockChart.update(all, ys);
  const last = h.samples.at(-1);
  if (!last) return;
  // Digests per second over the last ten samples.
  const first = h.samples.at(-Math.min(h.samples.length, 11));
  const seconds = (last.at_ns - first.at_ns) / 1e9;
  const rate = seconds > 0 ? (last.digests_total - first.digests_total) / seconds : 0;
  $('rate').textContent = rate.toFixed(1);
  $('rate').dataset.rate = String(rate);
  $('lag').textContent = ms(last.lag_ns);
  $('pool').textContent = String(last.pool_depth);
  $('view').textContent = String(last.view);
  $('clock-summary').textContent = `${last.synchronized ? 'synchronised' : 'UNSYNCHRONISED'}, interval ${ms(
    last.width_ns,
  )} wide, ${last.sources.filter((s) => s.agrees).length} of ${last.sources.length} sources agree`;
  const body = $('sources').tBodies[0];
  body.replaceChildren(
    ...last.sources.map((s) =>
      row([s.name, ms(s.offset_ns), ms(s.radius_ns), s.agrees ? 'agrees' : 'falseticker or not usable'], [
        '',
        '',
        '',
        s.agrees ? 'up' : 'down',
      ]),
    ),
  );
  return last;
}

function showNetwork(n, last) {
  $('node-name').textContent = n.nodes[n.this_node]?.name ?? `node ${n.this_node}`;
  $('network').textContent = `${n.chain_id} · ${n.nodes.length} members · f = ${n.f} · quorum ${n.quorum}`;
  const body = $('ring').tBodies[0];
  body.replaceChildren(
    ...n.nodes.map((m) => {
      const self = m.id === n.this_node;
      const up = self || m.connected;
      const reading = last?.sources.find((s) => s.name.endsWith(m.name));
      const clock = self ? 'this node' : reading ? `${ms(reading.offset_ns)} ± ${ms(reading.radius_ns)}` : '–';
      const tr = row([m.name, up ? 'up' : 'down', clock], ['', up ? 'up' : 'down', '']);
      tr.dataset.member = m.name;
      tr.dataset.state = up ? 'up' : 'down';
      return tr;
    }),
  );
  const connected = n.nodes.filter((m) => m.id === n.this_node || m.connected).length;
  $('ring-summary').textContent = `${connected} of ${n.nodes.length} members up from this node's view`;
  if (n.latest_tick) showTick(n.latest_tick);
  setState(n.synchronized ? 'ok' : 'unsynchronised', n.synchronized ? 'synchronised' : 'unsynchronised: not sealing batches');
}

function showAnchors(a) {
  const body = $('anchors').tBodies[0];
  body.replaceChildren(
    ...a.anchors.map((x) =>
      row([
        `${x.name ?? 'chain'} (${x.chain_id})`,
        x.to,
        `${x.tx_hash.slice(0, 10)}… block ${x.block_number}`,
        x.next_due === undefined ? '–' : `height ${x.next_due}`,
      ]),
    ),
  );
  $('anchors-note').textContent =
    a.anchors.length === 0 ? 'no anchor recorded: this node does not anchor, or has not yet' : '';
}

async function poll() {
  try {
    const [network, history, anchors] = await Promise.all([
      getJson('/v1/network'),
      getJson('/v1/history'),
      // An anchoring read that fails leaves the rest of the page live.
      getJson('/v1/anchors').catch(() => ({ anchors: [] })),
    ]);
    const last = showHistory(history);
    showNetwork(network, last);
    showAnchors(anchors);
    $('batches').textContent = String(
      [...$('ticks').tBodies[0].rows].reduce((sum, r) => sum + (Number(r.cells[3]?.textContent) || 0), 0),
    );
  } catch (e) {
    setState('down', `node not answering (${e.message})`);
  }
}

/** Starts the live panels. */
export function start() {
  follow();
  poll();
  setInterval(poll, POLL_MS);
}
