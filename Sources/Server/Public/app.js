"use strict";
// optlab serve's page: the playground (paths from /api/trajectories drawn over the server's
// contour image) and the dashboard (runs from /api/runs, polled). No libraries, no build step.

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- optimizer specs
// Every optimizer and schedule, with its keywords, the values a bare spec gets and torch's
// ranges, comes from the engine's registry (/api/optimizers); the server parses and checks every
// spec, so a control can only write what the CLI accepts.
let catalog = { optimizers: [], schedules: [] };

function keywordsOf(name) {
  const entry = catalog.optimizers.find((o) => o.name === name);
  return entry ? entry.keywords : null;
}

// The controls of an optimizer's main keywords: lr on a log scale; a slider over the range torch
// checks for each number or pair part bounded above (betas, rho, alpha…) and for momentum (torch
// checks only ≥ 0, but a momentum of 1 or more never converges); a checkbox per flag.
function controlsFor(keywords) {
  const controls = [];
  for (const kw of keywords) {
    const top = kw.maximum !== undefined ? (kw.maximumIncluded ? kw.maximum : 0.999) : 0.999;
    const bottom = kw.minimum !== undefined ? kw.minimum : 0;
    if (kw.key === "lr" && kw.kind === "number") {
      controls.push({ key: "lr", label: "lr (log)", lo: -5, hi: 1, log: true });
    } else if (kw.kind === "number" && (kw.maximum !== undefined || kw.key === "momentum")) {
      controls.push({ key: kw.key, label: kw.key, lo: bottom, hi: top });
    } else if (kw.kind === "pair" && kw.maximum !== undefined) {
      for (const part of [0, 1]) controls.push({ key: kw.key, part, label: `${kw.key}[${part}]`, lo: bottom, hi: top });
    } else if (kw.kind === "flag") {
      controls.push({ key: kw.key, label: kw.key, flag: true });
    }
  }
  return controls;
}

// Splits "name(k=v,...)" into its name and keyword pairs at the top level of parentheses.
function parseSpec(text) {
  const m = text.trim().match(/^([A-Za-z_]+)\s*(?:\((.*)\))?$/s);
  if (!m) return null;
  const args = [];
  let depth = 0, part = "";
  for (const c of m[2] || "") {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) { args.push(part); part = ""; } else part += c;
  }
  if (part.trim()) args.push(part);
  const pairs = args.map((a) => { const i = a.indexOf("="); return [a.slice(0, i).trim(), a.slice(i + 1).trim()]; });
  return { name: m[1], args: pairs };
}

function formatSpec(spec) {
  return spec.args.length ? `${spec.name}(${spec.args.map(([k, v]) => `${k}=${v}`).join(",")})` : spec.name;
}

// A keyword's value in the spec, else what the engine gives a spec that leaves it out.
function getArg(spec, key) {
  const found = spec.args.find(([k]) => k === key);
  if (found) return found[1];
  const kw = (keywordsOf(spec.name) || []).find((k) => k.key === key);
  return kw ? kw.value : undefined;
}

function removeArg(spec, key) { spec.args = spec.args.filter(([k]) => k !== key); }

function setArg(spec, key, value) {
  const found = spec.args.find(([k]) => k === key);
  if (found) found[1] = value; else spec.args.push([key, value]);
}

const short = (x) => String(Number(x.toPrecision(3)));

// ---------------------------------------------------------------- playground state
const state = {
  surface: null, fn: "bowl", start: null, steps: 100, noise: 0, seeds: 1, show: [],
  optimizers: ["sgd(lr=0.04)", "momentum(lr=0.02)", "adam(lr=0.2)"],
  result: null, frame: 0, playing: false,
  pending: false, inFlight: false, editStarted: null,
};
// Time from a slider (or any edit) to the redrawn paths, for the browser test and the README.
window.optlabLatencies = [];
window.optlabState = state;

function query(extra = {}) {
  const q = new URLSearchParams({ fn: state.fn, steps: state.steps, optimizers: state.optimizers.join(",") });
  if (state.start) q.set("start", `${state.start[0]},${state.start[1]}`);
  if (state.noise > 0 || state.seeds > 1) { q.set("noise", state.noise); q.set("seeds", state.seeds); }
  if (state.show.length) q.set("show", state.show.join(","));
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

async function getJSON(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function loadSurfaces() {
  const surfaces = await getJSON("/api/surfaces");
  const select = $("surface");
  for (const s of surfaces) select.add(new Option(`${s.name}: ${s.formula}`, s.name));
  select.add(new Option("a formula…", ""));
  catalog = await getJSON("/api/optimizers");
  for (const o of catalog.optimizers) $("add-name").add(new Option(o.name, o.example));
}

async function chooseSurface(fn) {
  $("formula-error").textContent = "";
  let info;
  try {
    info = await getJSON(`/api/surface?fn=${encodeURIComponent(fn)}`);
  } catch (e) {
    $("formula-error").textContent = e.message;
    return;
  }
  state.fn = fn;
  state.surface = info;
  state.start = info.start;
  const img = $("contours");
  await new Promise((resolve) => {
    img.onload = resolve;
    img.onerror = resolve;
    img.src = `/api/contours.png?fn=${encodeURIComponent(fn)}`;
  });
  sizeCanvas();
  recompute();
}

function sizeCanvas() {
  const img = $("contours"), canvas = $("paths");
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(img.clientWidth * ratio);
  canvas.height = Math.round(img.clientHeight * ratio);
}

// Data (x, y) to canvas pixels through the plot area the server reported, and back.
window.optlabToCanvas = toCanvas;
function toCanvas(x, y) {
  const s = state.surface, c = $("paths");
  const [l, t, r, b] = s.plotArea, [x0, x1, y0, y1] = s.window;
  return [(l + (x - x0) / (x1 - x0) * (r - l)) * c.width, (b - (y - y0) / (y1 - y0) * (b - t)) * c.height];
}

function fromCanvas(px, py) {
  const s = state.surface, c = $("paths");
  const [l, t, r, b] = s.plotArea, [x0, x1, y0, y1] = s.window;
  const fx = (px / c.width - l) / (r - l), fy = (b - py / c.height) / (b - t);
  if (fx < 0 || fx > 1 || fy < 0 || fy > 1) return null;
  return [x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)];
}

// Sends the newest settings; edits made while a request runs are sent once it returns.
async function recompute() {
  if (!state.surface) return;
  if (state.inFlight) { state.pending = true; return; }
  state.inFlight = true;
  const started = state.editStarted;
  state.editStarted = null;
  renderOptimizers();
  try {
    const result = await getJSON(`/api/trajectories?${query()}`);
    $("error").textContent = "";
    state.result = result;
    if (!state.playing) state.frame = result.steps;
    $("scrub").max = result.steps;
    draw();
    showResults();
    if (started !== null) window.optlabLatencies.push(performance.now() - started);
  } catch (e) {
    $("error").textContent = e.message;
  }
  state.inFlight = false;
  if (state.pending) { state.pending = false; recompute(); }
}

function edited() {
  if (state.editStarted === null) state.editStarted = performance.now();
  recompute();
}

function draw() {
  const canvas = $("paths"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!state.result || !state.surface) return;
  const ratio = window.devicePixelRatio || 1;
  const [l, t, r, b] = state.surface.plotArea;
  ctx.save();
  ctx.beginPath();
  ctx.rect(l * canvas.width, t * canvas.height, (r - l) * canvas.width, (b - t) * canvas.height);
  ctx.clip();
  // Under noise, each optimizer's seeds as a thin fan under the bold median, as the CLI draws it.
  for (const path of state.result.paths) {
    ctx.strokeStyle = path.color + "73";
    ctx.lineWidth = 1 * ratio;
    for (const seed of path.fan) {
      ctx.beginPath();
      seed.slice(0, state.frame + 1).forEach(([x, y], i) => (i ? ctx.lineTo(...toCanvas(x, y)) : ctx.moveTo(...toCanvas(x, y))));
      ctx.stroke();
    }
  }
  const shown = state.result.paths.map((path) => path.points.slice(0, state.frame + 1).map(([x, y]) => toCanvas(x, y)));
  state.result.paths.forEach((path, n) => {
    ctx.lineJoin = "round";
    for (const [color, width] of [["rgba(255,255,255,0.75)", 4.5], [path.color, 2]]) {
      ctx.strokeStyle = color;
      ctx.lineWidth = width * ratio;
      ctx.setLineDash(width === 2 ? path.dash.map((d) => d * 1.5 * ratio) : []);
      ctx.beginPath();
      shown[n].forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
    }
    ctx.setLineDash([]);
  });
  // The state marks over the paths, under the end markers.
  for (const path of state.result.paths) for (const marks of path.state) drawMarks(ctx, marks, ratio);
  state.result.paths.forEach((path, n) => {
    const [ex, ey] = shown[n][shown[n].length - 1];
    const diverged = path.divergedAt != null && state.frame >= path.points.length;
    ctx.fillStyle = path.color;
    ctx.strokeStyle = "#222";
    ctx.lineWidth = 1 * ratio;
    ctx.beginPath();
    if (diverged) {
      const d = 6 * ratio;
      ctx.strokeStyle = path.color; ctx.lineWidth = 3 * ratio;
      ctx.moveTo(ex - d, ey - d); ctx.lineTo(ex + d, ey + d); ctx.moveTo(ex + d, ey - d); ctx.lineTo(ex - d, ey + d);
      ctx.stroke();
    } else {
      ctx.arc(ex, ey, 5 * ratio, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
  });
  const [sx, sy] = toCanvas(...state.result.start);
  const h = 5 * ratio;
  ctx.fillStyle = "#fff"; ctx.strokeStyle = "#222"; ctx.lineWidth = 1.2 * ratio;
  ctx.fillRect(sx - h, sy - h, 2 * h, 2 * h);
  ctx.strokeRect(sx - h, sy - h, 2 * h, 2 * h);
  ctx.restore();
  $("scrub").value = state.frame;
  $("step-text").textContent = `step ${state.frame} / ${state.result.steps}`;
}

// The engine's state marks of the steps reached: arrows from → to (step, velocity) or ellipses
// with centre and radii in data units (scale).
function drawMarks(ctx, marks, ratio) {
  const s = state.surface, c = $("paths");
  const [l, t, r, b] = s.plotArea, [x0, x1, y0, y1] = s.window;
  const perX = (r - l) * c.width / (x1 - x0), perY = (b - t) * c.height / (y1 - y0);
  ctx.strokeStyle = ctx.fillStyle = marks.color;
  ctx.lineWidth = (marks.view === "velocity" ? 1.6 : 1.2) * ratio;
  marks.steps.forEach((step, i) => {
    if (step > state.frame) return;
    const [ax, ay] = toCanvas(...marks.from[i]);
    ctx.beginPath();
    if (marks.view === "scale") {
      // Outlined over a translucent fill of its colour, as Plot draws it.
      ctx.ellipse(ax, ay, Math.max(0.5, marks.to[i][0] * perX), Math.max(0.5, marks.to[i][1] * perY), 0, 0, 2 * Math.PI);
      ctx.fillStyle = marks.color + "2e";
      ctx.fill();
      ctx.stroke();
      return;
    }
    const [bx, by] = toCanvas(...marks.to[i]);
    const length = Math.hypot(bx - ax, by - ay);
    if (length < 0.5) return;
    const head = Math.min(7 * ratio, 0.5 * length), angle = Math.atan2(by - ay, bx - ax);
    ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(bx, by);
    ctx.lineTo(bx - head * Math.cos(angle - 0.4), by - head * Math.sin(angle - 0.4));
    ctx.lineTo(bx - head * Math.cos(angle + 0.4), by - head * Math.sin(angle + 0.4));
    ctx.closePath(); ctx.fill();
  });
}

function showResults() {
  const r = state.result;
  $("start-text").textContent = `(${short(r.start[0])}, ${short(r.start[1])})`;
  const rows = r.paths.map((p) => {
    const [x, y] = p.points[p.points.length - 1], loss = p.losses[p.losses.length - 1];
    const outcome = p.divergedAt != null ? `diverged at step ${p.divergedAt}` : "";
    return `<tr><td><span class="swatch" style="background:${p.color}"></span>${escapeHTML(p.label)}</td>` +
      `<td>${x.toPrecision(6)}</td><td>${y.toPrecision(6)}</td><td>${loss.toPrecision(6)}</td><td>${outcome}</td></tr>`;
  });
  $("results").innerHTML = "<tr><th>optimizer</th><th>final x</th><th>final y</th><th>loss</th><th></th></tr>" + rows.join("");
  $("command").value = r.command;
  for (const ext of ["png", "svg", "pdf", "csv", "gif", "mp4"]) $(`dl-${ext}`).href = `/api/trajectories.${ext}?${query()}`;
  // An animation moves one path per optimizer, as the CLI's does.
  for (const ext of ["gif", "mp4"]) $(`dl-${ext}`).hidden = state.seeds > 1;
  $("dl-animation-note").hidden = state.seeds <= 1;
}

function escapeHTML(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

// One block per optimizer: its spec text, label, sliders and a remove button, kept in step.
function renderOptimizers() {
  const box = $("optimizers");
  const colors = state.result ? state.result.paths.map((p) => p.color) : [];
  if (box.children.length !== state.optimizers.length) box.innerHTML = "";
  state.optimizers.forEach((text, i) => {
    let block = box.children[i];
    if (!block) {
      block = document.createElement("div");
      block.className = "optimizer";
      block.innerHTML = `<button class="remove" title="remove">✕</button><input class="spec" spellcheck="false">
        <div class="row"><span class="key">label</span><input class="label" placeholder="(the spec)"></div><div class="sliders"></div>`;
      block.querySelector(".remove").onclick = () => { state.optimizers.splice(i, 1); edited(); };
      block.querySelector(".spec").onchange = (e) => { state.optimizers[i] = e.target.value.trim(); edited(); };
      block.querySelector(".label").onchange = (e) => {
        const spec = parseSpec(state.optimizers[i]);
        if (!spec) return;
        spec.args = spec.args.filter(([k]) => k !== "label");
        if (e.target.value.trim()) spec.args.push(["label", e.target.value.trim().replace(/[,()=]/g, " ")]);
        state.optimizers[i] = formatSpec(spec);
        edited();
      };
      box.appendChild(block);
    }
    if (colors[i]) block.style.borderLeftColor = colors[i];
    const input = block.querySelector(".spec");
    if (document.activeElement !== input) input.value = text;
    const spec = parseSpec(text);
    const label = block.querySelector(".label");
    if (document.activeElement !== label) label.value = (spec && getArg(spec, "label")) || "";
    renderControls(block, i, spec);
  });
}

// The sliders, checkboxes, schedule menu and other keywords of one optimizer, rebuilt when its
// algorithm changes and set from its spec text otherwise.
function renderControls(block, i, spec) {
  const box = block.querySelector(".sliders");
  const keywords = spec && keywordsOf(spec.name);
  if (!keywords) { box.innerHTML = ""; box.dataset.algo = ""; return; }
  const controls = controlsFor(keywords);
  if (box.dataset.algo !== spec.name) {
    box.dataset.algo = spec.name;
    box.innerHTML = controls.filter((c) => !c.flag).map((c, n) =>
      `<div class="row"><span class="key">${c.label}</span><input type="range" data-control="${controls.indexOf(c)}" data-key="${c.key}" min="${c.lo}" max="${c.hi}"` +
      ` step="${c.log ? 0.01 : (c.hi - c.lo) / 1000}"><span class="value"></span></div>`).join("") +
      `<div class="row flags" ${controls.some((c) => c.flag) ? "" : "hidden"}>${controls.filter((c) => c.flag).map((c) =>
        `<label><input type="checkbox" data-control="${controls.indexOf(c)}">${c.key}</label>`).join(" ")}</div>` +
      `<div class="row"><span class="key">schedule</span><select class="schedule"><option value="">none</option>${
        catalog.schedules.map((sc) => `<option value="${sc.name}" title="${escapeHTML(sc.usage)}">${sc.name}</option>`).join("")}</select></div>` +
      `<div class="row other hint"></div>`;
    for (const input of box.querySelectorAll("input[data-control]")) {
      input.oninput = () => control(i, controls[Number(input.dataset.control)], input);
    }
    box.querySelector(".schedule").onchange = (e) => {
      const changed = parseSpec(state.optimizers[i]);
      const chosen = catalog.schedules.find((sc) => sc.name === e.target.value);
      if (chosen) setArg(changed, "schedule", chosen.example); else removeArg(changed, "schedule");
      state.optimizers[i] = formatSpec(changed);
      edited();
    };
  }
  for (const input of box.querySelectorAll("input[data-control]")) {
    const c = controls[Number(input.dataset.control)], value = controlValue(spec, c);
    if (document.activeElement === input) continue;
    if (c.flag) { input.checked = value; continue; }
    input.value = c.log ? Math.log10(value) : value;
    input.nextElementSibling.textContent = short(value);
  }
  const schedule = getArg(spec, "schedule");
  box.querySelector(".schedule").value = schedule ? parseSpec(schedule)?.name || "" : "";
  // The keywords without a control, with the values in effect: edit them in the spec text.
  const shown = new Set(controls.map((c) => c.key).concat(["lr"]));
  const others = keywords.filter((k) => !shown.has(k.key) && k.kind !== "other").map((k) => `${k.key}=${getArg(spec, k.key)}`);
  box.querySelector(".other").textContent = others.length ? `also: ${others.join(", ")}` : "";
}

function controlValue(spec, c) {
  const text = getArg(spec, c.key);
  if (c.flag) return text === "true";
  if (c.part !== undefined) return Number(String(text).replace(/[()]/g, "").split(",")[c.part]);
  return Number(text);
}

function control(i, c, input) {
  const spec = parseSpec(state.optimizers[i]);
  if (c.flag) {
    setArg(spec, c.key, input.checked ? "true" : "false");
  } else {
    const value = c.log ? 10 ** Number(input.value) : Number(input.value);
    if (c.part !== undefined) {
      const pair = [0, 1].map((p) => controlValue(spec, { key: c.key, part: p }));
      pair[c.part] = value;
      setArg(spec, c.key, `(${short(pair[0])},${short(pair[1])})`);
    } else {
      setArg(spec, c.key, short(value));
    }
    input.nextElementSibling.textContent = short(value);
  }
  state.optimizers[i] = formatSpec(spec);
  edited();
}

function togglePlay() {
  if (!state.result) return;
  state.playing = !state.playing;
  $("play").textContent = state.playing ? "❚❚ Pause" : "▶ Play";
  if (!state.playing) return;
  if (state.frame >= state.result.steps) state.frame = 0;
  const perFrame = Math.max(1, Math.round(state.result.steps / 150));
  const tick = () => {
    if (!state.playing) return;
    state.frame = Math.min(state.result.steps, state.frame + perFrame);
    draw();
    if (state.frame >= state.result.steps) togglePlay(); else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

function setUpPlayground() {
  $("surface").onchange = (e) => {
    const fn = e.target.value;
    $("formula-row").hidden = fn !== "";
    chooseSurface(fn || $("formula").value);
  };
  $("formula-apply").onclick = () => chooseSurface($("formula").value);
  $("formula").onkeydown = (e) => { if (e.key === "Enter") chooseSurface($("formula").value); };
  $("steps").onchange = (e) => { state.steps = Number(e.target.value); edited(); };
  $("noise").onchange = (e) => { state.noise = Number(e.target.value) || 0; edited(); };
  $("seeds").onchange = (e) => { state.seeds = Math.max(1, Math.round(Number(e.target.value)) || 1); edited(); };
  for (const box of document.querySelectorAll("#show input")) {
    box.onchange = () => {
      state.show = Array.from(document.querySelectorAll("#show input")).filter((b) => b.checked).map((b) => b.dataset.view);
      edited();
    };
  }
  $("paths").onclick = (e) => {
    const rect = e.target.getBoundingClientRect();
    const ratio = e.target.width / rect.width;
    const point = fromCanvas((e.clientX - rect.left) * ratio, (e.clientY - rect.top) * ratio);
    if (!point) return;
    const [x0, x1, y0, y1] = state.surface.window;
    const digits = (span) => Math.max(0, 3 - Math.floor(Math.log10(span)));
    state.start = [Number(point[0].toFixed(digits(x1 - x0))), Number(point[1].toFixed(digits(y1 - y0)))];
    edited();
  };
  $("add").onclick = () => { state.optimizers.push($("add-name").value); edited(); };
  $("play").onclick = togglePlay;
  $("scrub").oninput = (e) => { state.frame = Number(e.target.value); draw(); };
  $("copy").onclick = async () => {
    $("command").select();
    try { await navigator.clipboard.writeText($("command").value); } catch { document.execCommand("copy"); }
    $("copy").textContent = "Copied";
    setTimeout(() => ($("copy").textContent = "Copy as command"), 1200);
  };
  window.addEventListener("resize", () => { sizeCanvas(); draw(); });
}

// ---------------------------------------------------------------- dashboard
const dashboard = { runs: [], selected: new Set(), known: new Set(), focused: null, timer: null };
window.optlabDashboard = dashboard;

async function pollRuns() {
  try {
    const reply = await getJSON("/api/runs");
    $("runs-folder").textContent = reply.folder;
    dashboard.runs = reply.runs;
    for (const run of reply.runs) {
      if (!dashboard.known.has(run.id)) { dashboard.known.add(run.id); dashboard.selected.add(run.id); }
    }
    $("poll-state").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    $("poll-state").textContent = e.message;
  }
  renderRuns();
  drawChart();
}

function runStatus(run) {
  const last = run.metrics[run.metrics.length - 1];
  const acc = last && last.testAccuracy !== null ? `, test acc ${(100 * last.testAccuracy).toFixed(2)} %` : "";
  const epochs = `epoch ${last ? last.epoch : 0}${run.epochs ? ` / ${run.epochs}` : ""}`;
  if (run.state) {
    const badge = `<span class="state ${run.state}">${run.state}</span> `;
    const reason = run.reason && run.state !== "pending" ? `<br>${escapeHTML(run.reason)}` : "";
    return badge + (run.state === "pending" ? "not started" : `${run.diverged ? "diverged, " : ""}${epochs}${acc}`) + reason;
  }
  if (run.diverged) return `diverged${acc}`;
  if (run.finished) return `finished, ${run.metrics.length} epochs${acc}`;
  return `training: ${epochs}${acc}`;
}

// A job folder's heading: its runs counted by state.
function gridHeading(grid) {
  const runs = dashboard.runs.filter((r) => r.grid === grid), counts = {};
  for (const r of runs) counts[r.state] = (counts[r.state] || 0) + 1;
  const states = ["done", "running", "interrupted", "failed", "pending"].filter((st) => counts[st]).map((st) => `${counts[st]} ${st}`);
  const li = document.createElement("li");
  li.className = "grid";
  li.dataset.grid = grid;
  li.innerHTML = `job folder ${escapeHTML(grid)}<span class="status">${runs.length} runs: ${states.join(", ")}</span>`;
  return li;
}

function renderRuns() {
  const list = $("run-list");
  list.innerHTML = "";
  if (!dashboard.runs.length) {
    list.innerHTML = "<li>No runs yet: <code>optlab train --out DIR/run.safetensors</code>, <code>optlab cifar --compare … --jobs DIR/grid</code></li>";
  }
  let grid = null;
  for (const run of dashboard.runs) {
    if (run.grid && run.grid !== grid) list.appendChild(gridHeading(run.grid));
    grid = run.grid;
    const li = document.createElement("li");
    li.className = (run.id === dashboard.focused ? "focused" : "") + (run.grid ? " in-grid" : "");
    li.dataset.run = run.id;
    if (run.state) li.dataset.state = run.state;
    li.innerHTML = `<input type="checkbox" ${dashboard.selected.has(run.id) ? "checked" : ""}>` +
      `<span class="swatch" style="background:${run.color}"></span><b>${escapeHTML(run.label)}</b>` +
      `<span class="status">${escapeHTML(run.optimizer)}${run.model ? ` · ${escapeHTML(run.model)}` : ""}${run.grid ? ` · seed ${run.seed}` : ""}<br>${runStatus(run)}</span>`;
    li.querySelector("input").onclick = (e) => {
      e.stopPropagation();
      if (e.target.checked) dashboard.selected.add(run.id); else dashboard.selected.delete(run.id);
      drawChart();
    };
    li.onclick = () => { dashboard.focused = run.id; renderRuns(); showRun(run); };
    list.appendChild(li);
  }
}

// A line chart of the selected runs in their optimizer colours; runs sharing a colour get dashes.
function drawChart() {
  const canvas = $("chart"), ratio = window.devicePixelRatio || 1;
  canvas.width = canvas.clientWidth * ratio;
  canvas.height = canvas.clientHeight * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  const metric = $("metric").value, xKey = $("x-axis").value;
  ctx.font = "12px DejaVu Sans, sans-serif";
  const names = dashboard.runs.filter((r) => dashboard.selected.has(r.id)).map((r) => r.label.replace(/\.safetensors$/, "") + (r.grid ? ` seed ${r.seed}` : ""));
  const legendWidth = Math.max(0, ...names.map((n) => ctx.measureText(n).width));
  const W = canvas.clientWidth, H = canvas.clientHeight, pad = { l: 60, r: legendWidth + 56, t: 16, b: 40 };
  const percent = metric.endsWith("Accuracy");
  const series = dashboard.runs.filter((r) => dashboard.selected.has(r.id)).map((r) => ({
    run: r, points: r.metrics.filter((m) => m[metric] !== null && m[metric] !== undefined).map((m) => [m[xKey], percent ? 100 * m[metric] : m[metric]]),
  }));
  dashboard.plotted = Object.fromEntries(series.map((s) => [s.run.id, s.points.length]));
  const all = series.flatMap((s) => s.points);
  ctx.fillStyle = "#777";
  if (!all.length) { ctx.fillText("Select runs with at least one finished epoch.", pad.l, H / 2); return; }
  let [xmin, xmax] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [ymin, ymax] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (xmax === xmin) xmax = xmin + 1;
  if (ymax === ymin) { ymin -= 1; ymax += 1; }
  const my = (ymax - ymin) * 0.06; ymin -= my; ymax += my;
  const X = (x) => pad.l + (x - xmin) / (xmax - xmin) * (W - pad.l - pad.r);
  const Y = (y) => H - pad.b - (y - ymin) / (ymax - ymin) * (H - pad.t - pad.b);
  ctx.strokeStyle = "#e3e3e3"; ctx.lineWidth = 1; ctx.fillStyle = "#444";
  ctx.textAlign = "right";
  const yTicks = ticks(ymin, ymax), xTicks = ticks(xmin, xmax, xKey === "epoch" ? 1 : 0);
  for (const y of yTicks.values) {
    ctx.beginPath(); ctx.moveTo(pad.l, Y(y)); ctx.lineTo(W - pad.r, Y(y)); ctx.stroke();
    ctx.fillText(y.toFixed(yTicks.decimals), pad.l - 6, Y(y) + 4);
  }
  ctx.textAlign = "center";
  for (const x of xTicks.values) ctx.fillText(x.toFixed(xTicks.decimals), X(x), H - pad.b + 16);
  ctx.strokeStyle = "#555"; ctx.strokeRect(pad.l, pad.t, W - pad.l - pad.r, H - pad.t - pad.b);
  ctx.fillText(xKey === "epoch" ? "epoch" : "seconds", (pad.l + W - pad.r) / 2, H - 6);
  ctx.save(); ctx.translate(14, (pad.t + H - pad.b) / 2); ctx.rotate(-Math.PI / 2);
  ctx.fillText($("metric").selectedOptions[0].text + (percent ? " (%)" : ""), 0, 0); ctx.restore();
  const seen = {};
  ctx.textAlign = "left";
  series.forEach((s, i) => {
    const n = (seen[s.run.color] = (seen[s.run.color] || 0) + 1);
    ctx.strokeStyle = ctx.fillStyle = s.run.color;
    ctx.lineWidth = 2;
    ctx.setLineDash(n > 1 ? [[6, 3], [2, 3], [8, 3, 2, 3]][(n - 2) % 3] : []);
    ctx.beginPath();
    s.points.forEach(([x, y], k) => (k ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    for (const [x, y] of s.points) { ctx.beginPath(); ctx.arc(X(x), Y(y), 2.5, 0, 2 * Math.PI); ctx.fill(); }
    const ly = pad.t + 12 + 18 * i;
    ctx.beginPath(); ctx.moveTo(W - pad.r + 10, ly - 4); ctx.lineTo(W - pad.r + 34, ly - 4); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#222";
    ctx.fillText(names[i], W - pad.r + 40, ly);
  });
  ctx.setLineDash([]);
}

// Round values 1, 2 or 5 × 10^k apart, at most 7 of them, and the decimals that tell them apart.
function ticks(lo, hi, minimumStep = 0) {
  const power = Math.floor(Math.log10((hi - lo) / 5));
  const [m, step] = [1, 2, 5, 10].map((m) => [m, m * 10 ** power]).find(([, s]) => (hi - lo) / s <= 7 && s >= minimumStep) ||
    [1, minimumStep];
  const values = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) values.push(Number(v.toPrecision(12)));
  return { values, decimals: Math.max(0, -(m === 10 ? power + 1 : power)) };
}

// A focused run: its plan, and for a finished checkpoint its per-class accuracy and confusion matrix.
function showRun(run) {
  const detail = $("run-detail");
  detail.innerHTML = `<div><h2>${escapeHTML(run.label)}</h2>` +
    (run.plan ? `<pre>${escapeHTML(run.plan)}</pre>` : `<p>${escapeHTML(run.optimizer)}, seed ${run.seed}</p>`) + "</div>";
  if (run.kind === "cifar" || !run.finished) return;
  const box = document.createElement("div");
  box.innerHTML = `<button>Evaluate on the 10,000 test images</button><span class="hint"> per-class accuracy and confusion matrix</span>`;
  box.querySelector("button").onclick = async () => {
    box.innerHTML = "evaluating…";
    try {
      showEvaluation(box, await getJSON(`/api/evaluation?run=${encodeURIComponent(run.id)}`));
    } catch (e) {
      box.innerHTML = `<span class="error">${escapeHTML(e.message)}</span>`;
    }
  };
  detail.appendChild(box);
}

function showEvaluation(box, ev) {
  const perClass = ev.classes.map((c, i) =>
    `<tr><td>${c}</td><td>${(100 * ev.perClass[i]).toFixed(1)} %</td><td><span class="bar" style="width:${120 * ev.perClass[i]}px"></span></td></tr>`);
  const max = Math.max(...ev.confusion.flat());
  const cells = ev.confusion.map((row, i) => `<tr><th>${ev.classes[i]}</th>` + row.map((n) => {
    const t = n / max, light = t < 0.5;
    return `<td style="background:rgba(0,114,178,${t.toFixed(3)});color:${light ? "#222" : "#fff"}">${n}</td>`;
  }).join("") + "</tr>");
  box.className = "evaluation";
  box.innerHTML = `<div><h2>Test accuracy ${(100 * ev.accuracy).toFixed(2)} %</h2><table class="per-class">${perClass.join("")}</table></div>` +
    `<div><h2>Confusion matrix <span class="hint">rows: true class, columns: predicted</span></h2>` +
    `<table class="confusion"><tr><th></th>${ev.classes.map((c) => `<th>${c.slice(0, 5)}</th>`).join("")}</tr>${cells.join("")}</table></div>`;
}

function showView(name) {
  for (const v of ["playground", "dashboard"]) {
    $(v).hidden = v !== name;
    $(`tab-${v}`).classList.toggle("active", v === name);
  }
  clearInterval(dashboard.timer);
  if (name === "dashboard") { pollRuns(); dashboard.timer = setInterval(pollRuns, 1500); }
  else { sizeCanvas(); draw(); }
}

$("tab-playground").onclick = () => showView("playground");
$("tab-dashboard").onclick = () => showView("dashboard");
$("metric").onchange = drawChart;
$("x-axis").onchange = drawChart;
setUpPlayground();
loadSurfaces().then(() => chooseSurface("bowl"));
