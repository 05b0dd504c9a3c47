// The live view's page: fetch /state from labs/view.py, draw it, and fetch
// again. A snapshot says how long it took; the next one is asked for no
// sooner than REFRESH_MS, nor than twice that time, so the view never claims
// to be fresher than its reads allow. /env?id=N gives an environment's
// mappings, drawn when it is clicked (or named in the address: #env=N) and
// redrawn with each snapshot.
"use strict";

const REFRESH_MS = 250;
const TYPE_COLOURS = {free: "#f2f2f2", kernel: "#555", user: "#4a9", pt0: "#36c", pt1: "#248",
                      pt2: "#124", uarea: "#a4c"};
const TYPE_NAMES = {free: "free", kernel: "kernel", user: "user", pt0: "page table (level 0)",
                    pt1: "page table (level 1)", pt2: "page table (root)", uarea: "u-area"};
const TYPE_ORDER = ["free", "kernel", "user", "pt0", "pt1", "pt2", "uarea"];
const DEMO_PROGRAM = /^(demo_\w+|pagedemo)$/;  // the lecture demos' programs (user/demo.c)
let refreshes = 0, selected = null, colourBy = "type", last = null;

const $ = (id) => document.getElementById(id);
const hex = (n) => n.toString(16);

// An element with attributes (class, data-*) and children (strings or nodes).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {}))
    e.setAttribute(k, v);
  for (const c of children)
    e.append(c);
  return e;
}

// Fill table t with a header row and rows (arrays of cells); `none` if empty.
function fillTable(t, header, rows, none) {
  t.replaceChildren();
  if (rows.length === 0) {
    t.append(el("tr", {}, el("td", {class: "note"}, none)));
    return;
  }
  t.append(el("tr", {}, ...header.map((h) => el("th", {}, h))));
  for (const r of rows)
    t.append(el("tr", {}, ...r.map((c) => el("td", {}, String(c)))));
}

// A colour for environment id: its hue from the id, the same every time.
function envColour(id, light) {
  const hue = (id * 137) % 360;
  return `hsl(${hue}, 60%, ${light}%)`;
}

function drawEnvs(s) {
  const byParent = new Map();
  const ids = new Set(s.envs.map((e) => e.id));
  for (const e of s.envs) {
    const p = ids.has(e.parent) ? e.parent : 0;
    if (!byParent.has(p))
      byParent.set(p, []);
    byParent.get(p).push(e);
  }
  const running = (e) => e.id === s.running ? " running" : "";
  const byId = new Map(s.envs.map((e) => [e.id, e]));
  // A demo's program (user/demo_*.c, pagedemo) or an environment it made.
  const inDemo = (e) => {
    for (let a = e, n = 0; a && n < 16; a = byId.get(a.parent), n++)
      if (DEMO_PROGRAM.test(a.name))
        return true;
    return false;
  };
  const item = (e) => {
    const badges = [];
    if (e.calls)
      badges.push(el("span", {class: "badge"}, `calls ${hex(e.calls)}`));
    if (e.sleeping)
      badges.push(el("span", {class: "badge"}, "serves (asleep)"));
    if (e.waits_for)
      badges.push(el("span", {class: "badge"}, `waits for ${hex(e.waits_for)}`));
    if (e.exceptions)
      badges.push(el("span", {class: "badge"}, `${e.exceptions} exceptions`));
    if (e.overruns)
      badges.push(el("span", {class: "badge warn"}, `${e.overruns} overruns`));
    if (e.revoke)
      badges.push(el("span", {class: "badge warn"}, `asked for ${e.revoke.kind} ${e.revoke.arg}`));
    if (e.repossessed.length)
      badges.push(el("span", {class: "badge warn"}, `${e.repossessed.length} repossessed`));
    const li = el("li", {class: "env" + (e.id === selected ? " selected" : "") + (inDemo(e) ? " demo" : ""),
                         "data-id": hex(e.id),
                         "data-name": e.name, "data-parent": hex(e.parent), "data-pages": e.pages,
                         "data-status": e.status, "data-slices": e.slices},
      el("span", {class: "swatch", style: `background:${envColour(e.id, 55)}`}),
      el("span", {class: "env-id"}, hex(e.id)), " ",
      el("span", {class: "env-name"}, e.name), " ",
      el("span", {class: "env-status " + e.status + running(e)}, e.status + running(e)), " ",
      el("span", {class: "env-pages"}, `${e.pages} pages`), " ",
      el("span", {class: "env-slices"}, `${e.slices} slices`), " ", ...badges);
    li.addEventListener("click", (ev) => {
      ev.stopPropagation();
      selected = e.id;
      location.hash = "env=" + hex(e.id);  // a link to this view
      drawMappings();
    });
    const kids = byParent.get(e.id);
    if (kids)
      li.append(el("ul", {}, ...kids.map(item)));
    return li;
  };
  $("envs").replaceChildren(...(byParent.get(0) || []).map(item));
}

// The whole of RAM in the first map; in the second, enlarged, the pages
// from the first one not the kernel's to the last one in use.
const MAPS = [{id: "pagemap", cols: 256}, {id: "usedmap", cols: 96}];

function drawPages(s) {
  const t = $("page-counts");
  t.replaceChildren(el("tr", {}, el("th", {}, "all"), ...TYPE_ORDER.map((k) => el("th", {}, TYPE_NAMES[k]))),
    el("tr", {}, el("td", {id: "count-all"}, String(s.npages)),
       ...TYPE_ORDER.map((k) => el("td", {id: "count-" + k}, String(s.by_type[k])))));
  let lo = s.types.findIndex((ty) => TYPE_ORDER[ty] !== "kernel"), hi = s.npages;
  while (hi > lo + 1 && TYPE_ORDER[s.types[hi - 1]] !== "user" && TYPE_ORDER[s.types[hi - 1]] !== "uarea" &&
         !TYPE_ORDER[s.types[hi - 1]].startsWith("pt"))
    hi--;
  MAPS[0].lo = 0; MAPS[0].hi = s.npages;
  MAPS[1].lo = Math.max(lo, 0); MAPS[1].hi = hi;
  const rgbCache = new Map();
  for (const m of MAPS)
    drawMap(s, m, rgbCache);
  $("usedmap-range").textContent = `pages ${hex(s.base_ppn + MAPS[1].lo)}..${hex(s.base_ppn + MAPS[1].hi - 1)}`;
  $("legend").replaceChildren(...TYPE_ORDER.map((k) =>
    el("span", {class: "legend"}, el("span", {class: "swatch", style: `background:${TYPE_COLOURS[k]}`}),
       TYPE_NAMES[k])));
}

// Draw pages [m.lo, m.hi) of snapshot s on canvas m.id, m.cols cells a row.
function drawMap(s, m, cache) {
  const c = $(m.id), ctx = c.getContext("2d");
  const cell = Math.max(1, Math.floor(c.width / m.cols));
  c.height = Math.max(1, Math.ceil((m.hi - m.lo) / m.cols)) * cell;
  const img = ctx.createImageData(c.width, c.height);
  const rgb = (css) => {  // a CSS colour as [r, g, b], through the canvas
    ctx.fillStyle = css;
    const h = ctx.fillStyle;
    if (h.startsWith("#"))
      return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
    return h.match(/\d+/g).slice(0, 3).map(Number);
  };
  const colourOf = (i) => {
    const type = TYPE_ORDER[s.types[i]] || "free", owner = s.owners[i];
    const mine = owner && owner === selected;  // the selected environment's pages stand out
    const key = mine ? `s/${type}` : colourBy === "owner" && owner ? `o${owner}/${type}` : type;
    if (!cache.has(key)) {
      const light = {user: 60, uarea: 35, pt0: 45, pt1: 40, pt2: 30}[type] || 50;
      cache.set(key, rgb(mine ? `hsl(0, 90%, ${light}%)` :
                         colourBy === "owner" && owner ? envColour(owner, light) : TYPE_COLOURS[type]));
    }
    return cache.get(key);
  };
  for (let i = m.lo; i < m.hi; i++) {
    const [r, g, b] = colourOf(i);
    const x0 = ((i - m.lo) % m.cols) * cell, y0 = Math.floor((i - m.lo) / m.cols) * cell;
    for (let y = y0; y < y0 + cell - (cell > 3); y++)  // large cells keep a gap
      for (let x = x0; x < x0 + cell - (cell > 3); x++) {
        const o = (y * c.width + x) * 4;
        img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255;
      }
  }
  ctx.putImageData(img, 0, 0);
}

function drawSlices(s) {
  $("slices").replaceChildren(...s.slices.map((owner, i) =>
    el("span", {class: "slice" + (i === s.cur_slice ? " current" : ""), "data-owner": hex(owner),
                title: `slice ${i}: ${owner ? "environment " + hex(owner) : "free"}`,
                style: owner ? `background:${envColour(owner, 60)}` : ""},
       owner ? hex(owner) : "\u00b7")));
}

// A revocation's deadline d (rdtime), with the time left before it: from
// the running slice's end, the machine's clock being at most a slice behind.
function deadline(s, d) {
  const ms = Math.round((d - s.slice_end) * 1000 / s.timebase_hz);
  return `${d} (${ms > 0 ? `in about ${ms} ms` : "passed"})`;
}

function drawTables(s) {
  const name = new Map(s.envs.map((e) => [e.id, e.name]));
  const who = (id) => `${hex(id)} ${name.get(id) || ""}`.trim();
  fillTable($("revocations"), ["environment", "asked for", "deadline (rdtime)", "repossessed"],
    s.envs.filter((e) => e.revoke || e.repossessed.length).map((e) => [who(e.id),
      e.revoke ? `${e.revoke.kind} ${e.revoke.arg}` : "-", e.revoke ? deadline(s, e.revoke.deadline) : "-",
      e.repossessed.map(hex).join(" ") || "-"]),
    "nothing asked, nothing repossessed");
  const calls = s.envs.filter((e) => e.calls).map((e) => [who(e.id), "calls", who(e.calls)]);
  const serves = s.envs.filter((e) => e.sleeping).map((e) => [who(e.id), "waits for calls from",
    e.accepts === 0 ? "anyone" : e.accepts === 0xffffffff ? "nobody" : who(e.accepts)]);
  fillTable($("pct"), ["environment", "", ""], calls.concat(serves), "no call in progress");
  $("disk-size").textContent = s.disk_blocks ? `the disk: blocks 0..${s.disk_blocks - 1}; ` +
    "who may read and write which (disk_bind)" : "no disk";
  fillTable($("bindings"), ["environment", "blocks"], s.bindings.map((b) =>
    [who(b.env), `${b.start}..${b.start + b.count - 1}`]), "no bindings");
  const n = s.net;
  $("net-counters").textContent = `frames received ${n.received}, delivered to rings ${n.delivered}, ` +
    `consumed by handlers ${n.consumed}, unmatched ${n.unmatched}; sent ${n.sent}`;
  fillTable($("filters"), ["filter", "owner", "frames", "ring pages", "handler"], s.filters.map((f) =>
    [f.filter, who(f.owner), f.received, f.ring_pages,
     f.handler ? (f.stopped ? `stopped (${f.stopped})` : `runs: ${f.handler_runs}, sent ${f.handler_sent}`) : "-"]),
    "no packet filters");
}

// Fetch and draw the selected environment's mappings.
async function drawMappings() {
  if (selected === null)
    return;
  for (const li of document.querySelectorAll("li.env"))
    li.classList.toggle("selected", li.dataset.id === hex(selected));
  const m = await (await fetch(`/env?id=${selected}`, {cache: "no-store"})).json();
  const box = $("mappings");
  if (m.error) {
    $("mappings-title").textContent = "";
    box.replaceChildren(el("p", {class: "note"}, m.error));
    return;
  }
  $("mappings-title").textContent = `of ${hex(m.id)} ${m.name}`;
  const t = el("table", {id: "ranges"});
  fillTable(t, ["virtual", "pages", "physical", "rights"], m.ranges.map((r) =>
    [`${hex(r.va)}..${hex(r.va + r.pages * 4096 - 1)}`, r.pages,
     r.pages > 1 ? `${hex(r.ppn)}..${hex(r.ppn + r.pages - 1)}` : hex(r.ppn), r.rights]), "no mappings");
  box.replaceChildren(el("p", {class: "note"},
    `root page ${hex(m.root_ppn)}; ${m.tables.length} page-table pages ` +
    `(${m.tables.map((p) => hex(p.ppn)).join(" ")}); read in ${(m.seconds * 1000).toFixed(1)} ms`), t);
}

// The page under the mouse on map m, named in the canvas's tooltip.
function pageAt(m, ev) {
  const c = $(m.id), cell = Math.max(1, Math.floor(c.width / m.cols));
  const r = c.getBoundingClientRect(), scale = c.width / r.width;
  const col = Math.floor((ev.clientX - r.left) * scale / cell);
  const i = m.lo + Math.floor((ev.clientY - r.top) * scale / cell) * m.cols + col;
  if (!last || last.booting || col >= m.cols || i < m.lo || i >= m.hi)
    return "";
  const owner = last.owners[i], type = TYPE_ORDER[last.types[i]] || "?";
  const env = last.envs.find((e) => e.id === owner);
  return `page ${hex(last.base_ppn + i)}: ${TYPE_NAMES[type] || type}` +
    (owner ? `, owner ${hex(owner)} ${env ? env.name : ""}` : "");
}

function draw(s) {
  refreshes++;
  last = s;
  if (s.booting) {
    $("status").textContent = "the kernel is booting";
    return;
  }
  drawEnvs(s);
  drawPages(s);
  drawSlices(s);
  drawTables(s);
  $("status").replaceChildren(
    el("span", {id: "snapshot", "data-n": s.snapshot}, `snapshot ${s.snapshot}`),
    `: ${s.envs.length} environments, ${s.nfree} of ${s.npages} pages free; read in ` +
    `${(s.seconds * 1000).toFixed(1)} ms (${s.reads} reads of guest memory, the machine running); ` +
    `refreshed every ${delay(s)} ms; `,
    el("span", {id: "refreshes", "data-n": refreshes}, `${refreshes} refreshes here`));
}

function delay(s) {
  return Math.max(REFRESH_MS, Math.ceil(2000 * (s.seconds || 0)));
}

async function refresh() {
  let wait = 1000;
  try {
    const r = await fetch("/state", {cache: "no-store"});
    const s = await r.json();
    if (s.error)
      $("status").textContent = "cannot read the machine: " + s.error;
    else {
      draw(s);
      wait = delay(s);
      if (selected !== null)
        await drawMappings();
    }
  } catch (e) {
    $("status").textContent = "the machine is gone (" + e + ")";
  }
  setTimeout(refresh, wait);
}

// #env=N (hex) in the address selects environment N, as a click does.
const wanted = location.hash.match(/env=([0-9a-f]+)/);
if (wanted)
  selected = parseInt(wanted[1], 16);
for (const m of MAPS)
  $(m.id).addEventListener("mousemove", (ev) => { $(m.id).title = pageAt(m, ev); });
for (const r of document.querySelectorAll("input[name=colour]"))
  r.addEventListener("change", () => { colourBy = r.value; });
refresh();
