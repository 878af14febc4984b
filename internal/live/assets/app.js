// The live page of strongdfc: polls the server's JSON endpoints and draws
// the runs as SVG charts. Written for this project; no libraries, nothing
// loaded from elsewhere.
"use strict";

(function () {
  const POLL_MS = 2000;
  // The running means within an epoch are redrawn at most this often (a
  // finished epoch, a window or a reset are drawn at once): drawing costs
  // the browser more than anything else on the page.
  const RUNNING_MS = 10000;
  // matplotlib's tab10, as the run's PNG plots use.
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const SPLITS = [
    { key: "train", label: "train", dash: "" },
    { key: "validation", label: "validation", dash: "7 4" },
    { key: "test", label: "test", dash: "2 3" },
  ];
  const SVGNS = "http://www.w3.org/2000/svg";
  const FINAL = new Set(["done", "interrupted", "diverged", "failed"]);

  const runs = []; // {id, name, live, info, infoSeq, gen, epochs, running, unorm, state, win, winSeq, winErr}
  let windowRun = 0;
  let windowDrawn = false; // the window section shows a window (redrawn only when it changes)
  let curvesDirty = false, curvesDrawn = 0; // running points not drawn yet; when the curves were drawn
  // Counters for tests and curious readers (window.strongdfcLive).
  const stats = { polls: 0, errors: 0, renders: 0, epochs: 0, running: 0, windows: 0 };
  window.strongdfcLive = stats;

  // ---- small helpers ----
  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else if (k === "cls") e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  const finite = (v) => typeof v === "number" && isFinite(v);
  // fmtNum writes v with d significant digits (by default 4, and 2 for
  // small and large numbers, written as 1.5e-4).
  function fmtNum(v, d) {
    if (!finite(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential((d || 2) - 1).replace(/\.?0+e/, "e").replace("e+", "e");
    return String(parseFloat(v.toPrecision(d || 4)));
  }
  // tickLabels writes the ticks vs with as few significant digits as
  // show each exactly (to a thousandth of their spacing): 0.5, 1, 1.5,
  // but 0.72662, 0.72664 on a narrow axis.
  function tickLabels(vs) {
    let gap = Infinity;
    for (let i = 1; i < vs.length; i++) gap = Math.min(gap, Math.abs(vs[i] - vs[i - 1]));
    const tol = finite(gap) ? gap * 1e-3 : 0;
    for (let d = 1; d <= 12; d++) {
      const ls = vs.map((v) => fmtNum(v, d));
      if (ls.every((l, i) => Math.abs(parseFloat(l) - vs[i]) <= Math.max(tol, Math.abs(vs[i]) * 1e-12))) return ls;
    }
    return vs.map((v) => String(v));
  }
  function fmtDur(s) {
    if (!finite(s) || s < 0) return "–";
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
    if (m > 0) return `${m} min ${String(sec).padStart(2, "0")} s`;
    return `${sec} s`;
  }
  const fmtSec = (s) => (s < 1 ? Math.max(1, Math.round(1000 * s)) + " ms" : s.toFixed(1) + " s");
  const pct = (v) => (finite(v) ? (100 * v).toFixed(2) + " %" : "–");

  // ---- fetching ----
  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    if (r.status === 204) return null;
    if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  async function start() {
    const list = await getJSON("api/runs");
    for (const r of list) {
      runs.push({ id: r.id, name: r.name, live: r.live, info: null, infoSeq: -1, gen: 0,
        epochs: [], running: [], unorm: [], state: null, win: null, winSeq: 0, winErr: "" });
    }
    $("mode").textContent = runs.some((r) => r.live) ? "live training run" : runs.length > 1 ? `${runs.length} runs from their folders` : "a run from its folder";
    poll();
  }

  async function poll() {
    let curves = false, win = false, ok = true, why = "";
    for (const run of runs) {
      try {
        const q = `gen=${run.gen}&epochs=${run.epochs.length}&running=${run.running.length}&unorm=${run.unorm.length}`;
        const s = await getJSON(`api/runs/${run.id}?${q}`);
        for (const k of ["epochs", "running", "u_norm"]) s[k] = s[k] || [];
        if (s.reset) { run.epochs = []; run.running = []; run.unorm = []; }
        run.gen = s.gen;
        if (s.reset || s.epochs.length || s.u_norm.length) curves = true;
        if (s.running.length) curvesDirty = true;
        run.epochs.push(...s.epochs);
        run.running.push(...s.running);
        run.unorm.push(...s.u_norm);
        run.state = s;
        if (s.info_seq !== run.infoSeq) {
          run.info = await getJSON(`api/runs/${run.id}/info`);
          run.infoSeq = s.info_seq;
          curves = true;
          renderConfigs();
        }
        if (s.window_seq !== run.winSeq || (s.window_error || "") !== run.winErr) {
          run.win = await getJSON(`api/runs/${run.id}/window`);
          run.winSeq = s.window_seq;
          run.winErr = s.window_error || "";
          if (run.win) stats.windows++;
          win = true;
        }
      } catch (e) {
        ok = false;
        why = e.message;
        stats.errors++;
        console.warn(e);
      }
    }
    stats.polls++;
    const conn = $("conn");
    const over = runs.length > 0 && runs.every((r) => r.live && r.state && FINAL.has(r.state.status));
    if (ok) {
      conn.hidden = true;
    } else if (over) {
      // The run's process serves the page only while it trains.
      conn.hidden = false;
      conn.className = "conn ended";
      conn.textContent = "The run has ended and its process no longer serves this page: this is its final state. " +
        `"strongdfc view ${runs.map((r) => (r.info && r.info.dir) || r.name).join(" ")}" serves it again from the run folder.`;
    } else {
      conn.hidden = false;
      conn.className = "conn";
      const ended = runs.some((r) => r.live);
      const network = /fetch|network/i.test(why);
      conn.textContent = !network ? "Error: " + why + ". Retrying…"
        : ended ? "The server does not answer: the run has probably ended (its process serves the page only while it trains). \"strongdfc view RUN\" shows it from its folder. Retrying…"
        : "The server does not answer. Retrying…";
    }
    renderHeader();
    if (curvesDirty && Date.now() - curvesDrawn >= RUNNING_MS) curves = true;
    if (curves) {
      renderCurves();
      curvesDirty = false;
      curvesDrawn = Date.now();
    }
    if (win || (curves && !windowDrawn)) renderWindow();
    else updateWindowAge();
    stats.epochs = runs.reduce((n, r) => n + r.epochs.length, 0);
    stats.running = runs.reduce((n, r) => n + r.running.length, 0);
    if (!ok && over) return; // the run is over and its server gone: no more polling
    setTimeout(poll, POLL_MS);
  }

  // ---- the header: status, progress, ETA ----
  function runColor(i) { return PALETTE[i % PALETTE.length]; }

  function renderHeader() {
    const box = $("runs");
    box.textContent = "";
    runs.forEach((run, i) => {
      const s = run.state || {};
      const p = s.progress;
      const status = s.status || "…";
      let frac = 0, facts = "";
      const sum = s.summary;
      if (p && (status === "running" || status === "starting")) {
        frac = p.batches ? p.batch / p.batches : 0;
        const ago = s.now && p.time ? (Date.parse(s.now) - Date.parse(p.time)) / 1000 : NaN;
        facts = [
          `${p.phase} epoch ${p.epoch}/${p.epochs}`, `minibatch ${p.batch}/${p.batches}`,
          `loss ${fmtNum(p.loss)}`, finite(p.accuracy) ? `accuracy ${pct(p.accuracy)}` : null,
          `${fmtNum(p.samples_per_second)} samples/s`, `${fmtDur(p.epoch_seconds)} into the epoch`,
          `run ETA ${fmtDur(p.remaining_seconds)}`, finite(ago) ? `updated ${fmtDur(ago)} ago` : null,
        ].filter(Boolean).join(" · ");
      } else if (sum) {
        frac = status === "done" ? 1 : 0;
        facts = [
          `${sum.epochs} epochs`, finite(sum.test_accuracy) ? `test accuracy ${pct(sum.test_accuracy)}` : finite(sum.test_loss) ? `test loss ${fmtNum(sum.test_loss)}` : null,
          finite(sum.best_validation_accuracy) ? `best validation ${pct(sum.best_validation_accuracy)} (epoch ${sum.best_epoch})` : null,
          `${fmtNum(sum.samples_per_second)} samples/s`, `wall ${fmtDur(sum.wall_seconds)}`,
          sum.stopped_at ? `stopped at ${sum.stopped_at}` : null,
        ].filter(Boolean).join(" · ");
      } else if (status === "unknown") {
        facts = "no summary.json: the run is still training in another process, or it was killed";
      } else if (status === "starting") {
        facts = "loading the data…";
      }
      if (s.error) facts += (facts ? " · " : "") + "error: " + s.error;
      const bar = el("div", { cls: "bar", title: "the epoch under way" }, el("div"));
      bar.firstChild.style.width = (100 * frac).toFixed(1) + "%";
      const sw = el("span", { cls: "swatch" });
      sw.style.background = runs.length > 1 ? runColor(i) : "transparent";
      box.append(el("div", { cls: "run" }, sw,
        el("span", { cls: "name", text: run.name, title: (run.info && run.info.dir) || run.name }),
        el("span", { cls: "status " + status, text: status }), bar, el("span", { cls: "facts", text: facts })));
    });
  }

  // ---- charts ----
  function niceStep(span, n) {
    const raw = span / n;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  }
  function linTicks(lo, hi, n) {
    const step = niceStep(hi - lo, n);
    const out = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
  function logTicks(lo, hi) {
    const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
    if (hi / lo < 4) return linTicks(lo, hi, 4).filter((v) => v > 0); // less than a decade: plain steps
    const out = [];
    const mult = b - a <= 2 ? [1, 2, 5] : [1];
    const every = Math.max(1, Math.ceil((b - a) / 6));
    for (let k = a; k <= b; k += every) for (const m of mult) {
      const v = m * Math.pow(10, k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
    return out;
  }

  // chart draws a line chart. o: {title, xlabel, ylabel, logY, series:
  // [{color, dash, width, opacity, pts: [[x, y]...], markers}], legend:
  // [{label, color, dash, width, marker}], empty, w, h, yFloor, yCeil}.
  function chart(o) {
    const W = o.w || 460, H = o.h || 270, R = 14, T = 12, B = 46;
    let L = 64; // widened below for long tick labels
    const box = el("div", { cls: "chart" });
    if (o.id) box.id = o.id;
    box.append(el("h3", { text: o.title, title: o.title }));
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": o.title });
    box.append(s);
    const ok = (p) => finite(p[0]) && finite(p[1]) && (!o.logY || p[1] > 0);
    let xs = [], ys = [];
    for (const se of o.series) for (const p of se.pts) if (ok(p)) { xs.push(p[0]); ys.push(p[1]); }
    let points = 0;
    if (xs.length === 0) {
      s.append(svg("rect", { class: "frame", x: L, y: T, width: W - L - R, height: H - T - B }));
      const t = svg("text", { class: "empty", x: L + (W - L - R) / 2, y: T + (H - T - B) / 2, "text-anchor": "middle" });
      t.textContent = o.empty || "no data yet";
      s.append(t);
      axisLabels(s, o, W, H, L, T, B);
      box.dataset.points = "0";
      return box;
    }
    let x0 = Math.min(...xs), x1 = Math.max(...xs);
    if (o.xMin !== undefined) x0 = Math.min(x0, o.xMin);
    if (x0 === x1) { x0 -= 0.5; x1 += 0.5; }
    let y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (o.logY) {
      if (y0 === y1) { y0 /= 2; y1 *= 2; }
      const pad = Math.pow(y1 / y0, 0.05);
      y0 /= pad; y1 *= pad;
    } else {
      if (y0 === y1) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
      const pad = (y1 - y0) * 0.06;
      y0 -= pad; y1 += pad;
      if (o.yFloor !== undefined) y0 = Math.max(y0, o.yFloor);
      if (o.yCeil !== undefined) y1 = Math.min(y1, o.yCeil);
    }
    // The y ticks first: their labels set the left margin (the axis
    // label sits at x = 8..20, an 11 px digit is about 6.2 px wide).
    const yt = o.logY ? logTicks(y0, y1) : linTicks(y0, y1, 5), ytl = tickLabels(yt);
    L = Math.max(L, Math.ceil(28 + 6.2 * Math.max(0, ...ytl.map((l) => l.length))));
    const px = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const py = o.logY
      ? (y) => T + (1 - (Math.log(y) - Math.log(y0)) / (Math.log(y1) - Math.log(y0))) * (H - T - B)
      : (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
    // grid and ticks
    const g = svg("g", { class: "tick" });
    const xt = linTicks(x0, x1, Math.max(3, Math.round((W - L - R) / 55))), xtl = tickLabels(xt); // a tick per 55 px or more
    xt.forEach((v, i) => {
      const X = px(v);
      g.append(svg("line", { class: "gridline", x1: X, x2: X, y1: T, y2: H - B }));
      g.append(svg("line", { stroke: "#9aa4ad", x1: X, x2: X, y1: H - B, y2: H - B + 4 }));
      const t = svg("text", { x: X, y: H - B + 15, "text-anchor": "middle" });
      t.textContent = xtl[i];
      g.append(t);
    });
    yt.forEach((v, i) => {
      const Y = py(v);
      g.append(svg("line", { class: "gridline", x1: L, x2: W - R, y1: Y, y2: Y }));
      g.append(svg("line", { stroke: "#9aa4ad", x1: L - 4, x2: L, y1: Y, y2: Y }));
      const t = svg("text", { x: L - 6, y: Y + 4, "text-anchor": "end" });
      t.textContent = ytl[i];
      g.append(t);
    });
    s.append(g);
    s.append(svg("rect", { class: "frame", x: L, y: T, width: W - L - R, height: H - T - B }));
    // the lines, clipped to the frame
    const clipId = "c" + Math.random().toString(36).slice(2);
    const defs = svg("defs");
    const cp = svg("clipPath", { id: clipId });
    cp.append(svg("rect", { x: L, y: T - 2, width: W - L - R, height: H - T - B + 4 }));
    defs.append(cp);
    s.append(defs);
    const lines = svg("g", { "clip-path": `url(#${clipId})` });
    for (const se of o.series) {
      let d = "", pen = false, n = 0;
      for (const p of se.pts) {
        if (!ok(p)) { pen = false; continue; }
        d += (pen ? "L" : "M") + px(p[0]).toFixed(1) + " " + py(p[1]).toFixed(1);
        pen = true;
        n++;
      }
      points += n;
      if (d && !se.ticks) {
        const path = svg("path", { class: "series", d, fill: "none", stroke: se.color, "stroke-width": se.width || 1.8,
          "stroke-linejoin": "round", "stroke-linecap": "round" });
        if (se.dash) path.setAttribute("stroke-dasharray", se.dash);
        if (se.opacity) path.setAttribute("stroke-opacity", se.opacity);
        path.dataset.points = String(n);
        lines.append(path);
      }
      if (se.markers) for (const p of se.pts) if (ok(p)) {
        lines.append(svg("circle", { cx: px(p[0]).toFixed(1), cy: py(p[1]).toFixed(1), r: 2.6, fill: se.color }));
      }
      if (se.ticks) { // a raster's spikes, as tall as the rows allow
        const h = Math.max(1, Math.min(3, 0.4 * Math.abs(py(1) - py(0))));
        for (const p of se.pts) if (ok(p)) {
          const X = px(p[0]).toFixed(1), Y = py(p[1]);
          lines.append(svg("line", { x1: X, x2: X, y1: (Y - h).toFixed(1), y2: (Y + h).toFixed(1), stroke: se.color, "stroke-width": 1.2 }));
        }
      }
    }
    s.append(lines);
    axisLabels(s, o, W, H, L, T, B);
    box.dataset.points = String(points);
    if (o.legend && o.legend.length) box.append(legend(o.legend));
    return box;
  }

  function axisLabels(s, o, W, H, L, T, B) {
    const xl = svg("text", { class: "axis-label", x: L + (W - L - 14) / 2, y: H - 8, "text-anchor": "middle" });
    xl.textContent = o.xlabel;
    const cy = T + (H - T - B) / 2;
    const yl = svg("text", { class: "axis-label", x: 14, y: cy, "text-anchor": "middle", transform: `rotate(-90 14 ${cy})` });
    // "u (a.u.)" on a log scale is "u (a.u., log scale)".
    yl.textContent = !o.logY ? o.ylabel : o.ylabel.endsWith(")") ? o.ylabel.slice(0, -1) + ", log scale)" : o.ylabel + " (log scale)";
    s.append(xl, yl);
  }

  function legend(items) {
    const box = el("div", { cls: "legend" });
    for (const it of items) {
      const s = svg("svg", { viewBox: "0 0 26 10" });
      if (it.swatch) {
        s.append(svg("rect", { x: 7, y: 0, width: 10, height: 10, rx: 2, fill: it.color }));
      } else {
        const l = svg("line", { x1: 1, x2: 25, y1: 5, y2: 5, stroke: it.color, "stroke-width": it.width || 2, "stroke-opacity": it.opacity || 1 });
        if (it.dash) l.setAttribute("stroke-dasharray", it.dash);
        s.append(l);
        if (it.marker) s.append(svg("circle", { cx: 13, cy: 5, r: 2.6, fill: it.color }));
      }
      box.append(el("span", {}, s, document.createTextNode(it.label)));
    }
    return box;
  }

  // ---- learning curves and diagnostics ----
  function pretrainOf(run) {
    let n = run.info ? run.info.pretrain_epochs : 0;
    let rows = 0;
    for (const r of run.epochs) if (r.phase === "pretrain") rows++;
    return Math.max(n, rows);
  }
  // epochPts returns [x, f(row)] of the run's epoch rows (no sleep rows),
  // the line broken between pre-training and training when split.
  function epochPts(run, f, split) {
    const P = pretrainOf(run);
    const out = [];
    let phase = "";
    for (const r of run.epochs) {
      if (r.phase === "sleep") continue;
      if (split && phase === "pretrain" && r.phase !== "pretrain") out.push([NaN, NaN]);
      phase = r.phase;
      const x = r.phase === "pretrain" ? r.epoch - P : r.epoch;
      const y = f(r);
      out.push([x, y === null || y === undefined ? NaN : y]);
    }
    return out;
  }
  // runningPts returns the running means of the epochs under way (the
  // finished epochs' rows replace theirs), broken between epochs.
  function runningPts(run, f) {
    const out = [];
    let last = -Infinity;
    for (const p of run.running) {
      if (p.x < last) out.push([NaN, NaN]);
      if (Math.ceil(p.x - 1e-9) !== Math.ceil(last - 1e-9) && out.length) out.push([NaN, NaN]);
      const y = f(p);
      out.push([p.x, y === null || y === undefined ? NaN : y]);
      last = p.x;
    }
    return out;
  }
  // hasRunning reports whether a run has running means within epochs
  // (only a live run has them; a run folder keeps the epochs' rows).
  function hasRunning() { return runs.some((r) => r.running.length > 0); }
  function xLabel() {
    return runs.some((r) => pretrainOf(r) > 0) ? "epoch (≤ 0: feedback pre-training)" : "epoch";
  }
  function isAutoencoder() {
    return runs.length > 0 && runs.every((r) => r.info && r.info.config_yaml && /\ntask: autoencode/.test("\n" + r.info.config_yaml));
  }

  // splitSeries builds the series of a per-split quantity (loss or
  // accuracy) of every run: one colour per split for one run, one colour
  // per run and a dash per split for several.
  function splitSeries(field, scale, runningField) {
    const series = [], leg = [];
    const many = runs.length > 1;
    runs.forEach((run, i) => {
      SPLITS.forEach((sp, j) => {
        const color = many ? runColor(i) : PALETTE[j];
        const dash = many ? sp.dash : "";
        const key = sp.key + "_" + field;
        series.push({ color, dash, markers: run.epochs.length <= 60, pts: epochPts(run, (r) => (r[key] === null ? NaN : r[key] * scale)) });
        if (sp.key === "train" && runningField) {
          series.push({ color, dash: "", width: 1.1, opacity: 0.55, pts: runningPts(run, (p) => (p[runningField] === null ? NaN : p[runningField] * scale)) });
        }
      });
    });
    if (many) {
      runs.forEach((run, i) => leg.push({ label: run.name, color: runColor(i), swatch: true }));
      SPLITS.forEach((sp) => leg.push({ label: sp.label + " (epoch)", color: "#555", dash: sp.dash }));
      if (hasRunning()) leg.push({ label: "train, running mean within the epoch", color: "#555", width: 1.1, opacity: 0.55 });
    } else {
      SPLITS.forEach((sp, j) => leg.push({ label: sp.label + " (after each epoch)", color: PALETTE[j], marker: true }));
      if (hasRunning()) leg.push({ label: "train, running mean within the epoch", color: PALETTE[0], width: 1.1, opacity: 0.55 });
    }
    return { series, leg };
  }

  function renderCurves() {
    stats.renders++;
    const xl = xLabel();
    const ae = isAutoencoder();
    const curves = $("curves");
    curves.textContent = "";
    const loss = splitSeries("loss", 1, "loss");
    curves.append(chart({ id: "chart-loss", title: ae ? "Loss (mean squared error)" : "Loss (cross-entropy against the soft labels)",
      xlabel: xl, ylabel: "loss", logY: true, series: loss.series, legend: loss.leg }));
    if (!ae) {
      const acc = splitSeries("accuracy", 100, "accuracy");
      curves.append(chart({ id: "chart-accuracy", title: "Accuracy of the feedforward network", xlabel: xl, ylabel: "accuracy (%)",
        series: acc.series, legend: acc.leg, yFloor: 0, yCeil: 100 }));
    }
    const following = runs.some((r) => r.state && !FINAL.has(r.state.status));
    $("curves-note").textContent = "Train: mean over each epoch's minibatches before their updates; validation and test: after the epoch." +
      (following ? " Asked for every " + POLL_MS / 1000 + " s" + (hasRunning() ? "; the running means within an epoch are redrawn every " + RUNNING_MS / 1000 + " s." : ".") : "");

    const diag = $("diag");
    diag.textContent = "";
    const many = runs.length > 1;
    // H: per epoch, and the running mean within the epoch.
    {
      const series = [], leg = [];
      runs.forEach((run, i) => {
        const c = many ? runColor(i) : PALETTE[0];
        series.push({ color: c, markers: run.epochs.length <= 60, pts: epochPts(run, (r) => r.control, true) });
        series.push({ color: c, width: 1.1, opacity: 0.55, pts: runningPts(run, (p) => p.control) });
      });
      if (many) runs.forEach((run, i) => leg.push({ label: run.name, color: runColor(i), swatch: true }));
      leg.push({ label: "mean over the epoch", color: many ? "#555" : PALETTE[0], marker: !many });
      if (hasRunning()) leg.push({ label: "running mean within the epoch", color: many ? "#555" : PALETTE[0], width: 1.1, opacity: 0.55 });
      diag.append(chart({ id: "chart-control", title: "Amount of control H = ‖Q̄ū‖² / (B·N)", xlabel: xl, ylabel: "H (a.u.)",
        logY: true, series, legend: leg, empty: "no controller (backprop), or no minibatch yet" }));
    }
    // ‖ū‖ of the recorded windows.
    {
      const series = [], leg = [];
      runs.forEach((run, i) => {
        const c = many ? runColor(i) : PALETTE[1];
        series.push({ color: c, markers: true, pts: run.unorm.map((p) => [p.x, p.u_norm]) });
        if (many) leg.push({ label: run.name, color: c, swatch: true });
      });
      if (!many) leg.push({ label: "‖ū‖, ū = u averaged over the window's last quarter; mean over the window's samples", color: PALETTE[1], marker: true });
      diag.append(chart({ id: "chart-unorm", title: "Size of the control ‖ū‖ in the recorded windows", xlabel: xl, ylabel: "‖ū‖ (a.u.)",
        logY: true, series, legend: leg, empty: "no window recorded yet" }));
    }
    // Angles to backprop.
    {
      const series = [], leg = [];
      runs.forEach((run, i) => {
        if (many) {
          series.push({ color: runColor(i), markers: run.epochs.length <= 60, pts: epochPts(run, (r) => r.angle_total) });
          leg.push({ label: run.name + " (whole network)", color: runColor(i), swatch: true });
          return;
        }
        const keys = ["angle_total"];
        const layers = new Set();
        for (const r of run.epochs) for (const k of Object.keys(r)) if (/^angle_layer\d+$/.test(k)) layers.add(k);
        keys.push(...[...layers].sort((a, b) => parseInt(a.slice(11)) - parseInt(b.slice(11))));
        keys.forEach((k, j) => {
          series.push({ color: PALETTE[j % 10], width: k === "angle_total" ? 2.4 : 1.5, markers: run.epochs.length <= 60, pts: epochPts(run, (r) => r[k]) });
          leg.push({ label: k === "angle_total" ? "whole network" : "layer " + k.slice(11), color: PALETTE[j % 10], width: k === "angle_total" ? 2.4 : 1.5 });
        });
      });
      diag.append(chart({ id: "chart-angles", title: "Angle of the forward updates to backprop's gradients", xlabel: xl,
        ylabel: "angle (degrees)", series, legend: leg, yFloor: 0, yCeil: 180, empty: "no angles (measured on each epoch's last minibatch)" }));
    }
    // GN alignment.
    {
      const series = [], leg = [];
      runs.forEach((run, i) => {
        const c = many ? runColor(i) : PALETTE[4];
        series.push({ color: c, markers: run.epochs.length <= 60, pts: epochPts(run, (r) => r.gn_alignment) });
        leg.push(many ? { label: run.name, color: c, swatch: true } : { label: "‖P_J Q̄‖ / ‖Q̄‖ at the feedforward state (1: aligned)", color: c, marker: true });
      });
      diag.append(chart({ id: "chart-gn", title: "Gauss-Newton alignment of the feedback weights Q", xlabel: xl,
        ylabel: "GN alignment (ratio)", series, legend: leg, yFloor: 0, yCeil: 1.05, empty: "no feedback weights (backprop), or no epoch yet" }));
    }
  }

  // ---- the recorded window ----
  function renderWindow() {
    const head = $("window-head"), body = $("window-body");
    head.textContent = "";
    body.textContent = "";
    if (runs.length > 1) {
      const sel = el("select", { "aria-label": "run" });
      runs.forEach((r, i) => {
        const o = el("option", { value: String(i), text: r.name });
        if (i === windowRun) o.selected = true;
        sel.append(o);
      });
      sel.addEventListener("change", () => { windowRun = parseInt(sel.value); renderWindow(); });
      head.append(el("label", { text: "Run:" }, sel), document.createTextNode(" "));
    }
    const run = runs[Math.min(windowRun, runs.length - 1)];
    windowDrawn = false;
    if (!run) return;
    const w = run.win;
    if (!w) {
      let why = "No window recorded yet: one is recorded within seconds of opening this page, then every 30 s while it is open, and after the run's last epoch.";
      if (run.info && !run.info.windows) why = "This method simulates no dynamics (backprop): there is no window to show.";
      else if (!run.live) why = `The folder has no ${"window.json"}: the run was trained without --serve. "strongdfc trace --from ${run.info ? run.info.dir : "RUN"}" records a window.`;
      if (run.winErr) why = run.winErr;
      head.append(document.createTextNode(why));
      return;
    }
    windowDrawn = true;
    const where = `${w.phase} epoch ${w.epoch}` + (w.batch < w.batches ? `, after minibatch ${w.batch}/${w.batches}` : " (at its end)");
    head.append(document.createTextNode(`Recorded at ${where}`), el("span", { id: "window-age" }), document.createTextNode(
      ` (took ${fmtSec(w.seconds)}${finite(w.cpu_seconds) ? ", " + fmtSec(w.cpu_seconds) + " of CPU time" : ""}, on a copy of the network; learning off). ` +
      `Samples ${w.samples.map((s) => s.index).join(", ")} of the ${w.split} split. The model is dimensionless: time t = k·dt in the unit of its time constants (dt = ${w.dt}), ` +
      `voltages, rates and u in arbitrary units (a.u.).` +
      (run.winErr ? " The last recording failed: " + run.winErr : "")));
    const t = w.t;
    const xl = "time t (a.u.)";
    // Shared legends: classes (u and output) and layers (compartments).
    const unit = isAutoencoder() ? "output unit " : "class ";
    const classLeg = w.outputs.map((j, i) => ({ label: unit + j, color: PALETTE[i % 10] }));
    classLeg.push({ label: "target (dashed)", color: "#555", dash: "6 3" });
    const nLayers = w.samples.length ? w.samples[0].layers.length : 0;
    const layerLeg = [];
    for (let i = 0; i < nLayers; i++) {
      const l = w.samples[0].layers[i];
      layerLeg.push({ label: `layer ${l.layer}${i === nLayers - 1 ? " (output)" : ""}, neuron ${l.neurons[0]}`, color: PALETTE[i % 10] });
    }
    layerLeg.push({ label: "soma (solid)", color: "#555" }, { label: "basal (dashed)", color: "#555", dash: "6 3" });
    body.append(el("div", { cls: "legend" }, el("b", { text: "u and output: " })), legend(classLeg), el("div", { cls: "legend" }, el("b", { text: "compartments: " })), legend(layerLeg));
    const zip = (ys) => t.map((x, k) => [x, ys[k]]);
    for (const s of w.samples) {
      const row = el("div", { cls: "row" });
      const u = [], out = [];
      w.outputs.forEach((j, i) => {
        u.push({ color: PALETTE[i % 10], width: 1.4, pts: zip(s.u[i]) });
        out.push({ color: PALETTE[i % 10], width: i === s.label ? 2.2 : 1.4, pts: zip(s.output[i]) });
        if (j === s.label || w.outputs.length <= 4 || !w.softmax) {
          out.push({ color: PALETTE[i % 10], dash: "6 3", width: 1.2, pts: t.map((x) => [x, s.target[i]]) });
        }
      });
      const small = { w: 340, h: 230 };
      row.append(chart({ ...small, title: "control u", xlabel: xl, ylabel: "u (a.u.)", series: u }));
      row.append(chart({ ...small, title: (w.softmax ? "softmax(r_L)" : "output r_L") + " and target", xlabel: xl,
        ylabel: w.softmax ? "softmax(r_L) (probability)" : "r_L (a.u.)", series: out }));
      const soma = [], apical = [], raster = [], rasterLayers = [];
      s.layers.forEach((l, i) => {
        soma.push({ color: PALETTE[i % 10], width: 1.6, pts: zip(l.soma[0]) });
        soma.push({ color: PALETTE[i % 10], width: 1.3, dash: "6 3", pts: zip(l.basal[0]) });
        apical.push({ color: PALETTE[i % 10], width: 1.6, pts: zip(l.apical[0]) });
        if (l.spikes) {
          l.spikes.forEach((times) => {
            const y = raster.length + 1; // one row per neuron, layer 1 at the bottom
            raster.push({ color: PALETTE[i % 10], ticks: true, pts: times.map((x) => [x, y]) });
          });
          rasterLayers.push(l.spike_neurons.length);
        }
      });
      row.append(chart({ ...small, title: "soma (solid), basal (dashed)", xlabel: xl, ylabel: "voltage (a.u.)", series: soma }));
      row.append(chart({ ...small, title: "apical voltage v_fb", xlabel: xl, ylabel: "v_fb (a.u.)", series: apical }));
      if (raster.length) {
        // Every row drawn, silent ones too: the y axis spans all of them.
        raster.push({ color: "transparent", pts: [[t[0], 0.5], [t[0], raster.length + 0.5]] });
        row.append(chart({ ...small, title: rasterLayers.every((n) => n === rasterLayers[0]) ? `spikes, ${rasterLayers[0]} neurons per layer` : `spikes of ${rasterLayers.join(" + ")} neurons`, xlabel: xl, ylabel: "neuron (layers stacked)",
          series: raster, yFloor: 0.5, yCeil: raster.length - 0.5 }));
      }
      body.append(el("div", { cls: "sample" }, el("h3", { text: `${w.split} sample ${s.index} (label ${s.label})` }), row));
    }
    updateWindowAge();
  }

  // updateWindowAge says how long ago the window shown was recorded.
  function updateWindowAge() {
    const span = $("window-age");
    const run = runs[Math.min(windowRun, runs.length - 1)];
    if (!span || !run || !run.win || !run.state) return;
    const ago = (Date.parse(run.state.now) - Date.parse(run.win.recorded)) / 1000;
    span.textContent = finite(ago) ? `, ${fmtDur(ago)} ago` : "";
  }

  // ---- configuration ----
  function renderConfigs() {
    const box = $("configs");
    box.textContent = "";
    runs.forEach((run) => {
      const in_ = run.info;
      if (!in_) return;
      const rows = [["folder", in_.dir || "(none)"], ["method", in_.method], ["data set", in_.dataset]];
      const m = in_.meta;
      if (m) {
        if (m.started) rows.push(["started", new Date(m.started).toLocaleString()]);
        if (m.command) rows.push(["command", m.command.join(" ")]);
        if (m.program) rows.push(["program", `${m.program.version}${m.program.vcs_revision ? " (" + m.program.vcs_revision.slice(0, 10) + ")" : ""}, ${m.program.go_version}, ${m.program.blas_backend}, ${m.program.gomaxprocs} of ${m.program.cpus} CPUs`]);
        if (m.resumed) rows.push(["resumed", m.resumed.length + " time(s)"]);
      }
      const table = el("table");
      for (const [k, v] of rows) table.append(el("tr", {}, el("td", { text: k }), el("td", { text: v || "–" })));
      const det = el("details", {}, el("summary", { text: "config.yaml" }), el("pre", { text: in_.config_yaml || "" }));
      det.open = runs.length === 1;
      box.append(el("div", { cls: "config" }, el("h3", { text: run.name }), table, det));
    });
  }

  start().catch((e) => {
    $("conn").hidden = false;
    $("conn").textContent = "Could not load the list of runs: " + e.message;
  });
})();
