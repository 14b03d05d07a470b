// The gigapix viewer: a canvas that shows one deep-zoom pyramid (DeepZoom,
// IIIF Image API 2 and 3, Zoomify, Google) with pan and zoom, loading only
// the visible tiles of the level that matches the zoom. No dependencies.
//
// The page holds its configuration in <script id="gigapix-config">: layout,
// the descriptor's URL relative to the page, and (optionally) the geometry;
// what the configuration leaves out is read from the descriptor.
//
// For tests and scripts: `window.viewer` has zoomIn(), zoomOut(), home(),
// zoomTo(zoom, x, y), whenReady() (a promise of the state once every
// visible tile of the current level has loaded or failed) and `state`
// ({zoom, x, y, level, ready, loaded, failed}); <html data-ready> is
// "true" or "false". The view is also in the fragment:
// #zoom=Z&x=X&y=Y (screen pixels per image pixel, centre in image pixels).
"use strict";
(function () {
  const cfg = JSON.parse(document.getElementById("gigapix-config").textContent);
  const canvas = document.getElementById("view");
  const ctx = canvas.getContext("2d");
  const statusLine = document.getElementById("status");
  const MAX_INFLIGHT = 8;
  const MAX_CACHE = 600;

  function dirOf(url) {
    const i = url.lastIndexOf("/");
    return i < 0 ? "" : url.slice(0, i + 1);
  }
  function attr(el, name) {
    const v = el && (el.getAttribute(name) || el.getAttribute(name.toLowerCase()));
    return v === null || v === undefined ? NaN : Number(v);
  }
  function log2ceil(n) {
    let k = 0;
    while (2 ** k < n) k++;
    return k;
  }
  async function fetchText(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(url + ": HTTP " + r.status);
    return r.text();
  }

  // A level: its size in level pixels, `f` image pixels per level pixel,
  // the tile grid, and tile(c, r) -> {x, y (level pixels of the tile
  // image's top-left corner), urls (tried in order)}.
  function deepZoomLevels(W, H, ts, ov, fmt, base) {
    const L = log2ceil(Math.max(W, H));
    const out = [];
    for (let l = 0; l <= L; l++) {
      const k = L - l;
      const f = 2 ** k;
      const w = Math.ceil(W / f), h = Math.ceil(H / f);
      // Skip levels when the next finer one still fits in one tile.
      if (k > 0 && Math.ceil(W / (f / 2)) <= ts && Math.ceil(H / (f / 2)) <= ts) continue;
      out.push({
        w, h, f, tw: ts, th: ts, cols: Math.ceil(w / ts), rows: Math.ceil(h / ts),
        tile: (c, r) => ({
          x: c * ts - (c > 0 ? ov : 0),
          y: r * ts - (r > 0 ? ov : 0),
          urls: [base + l + "/" + c + "_" + r + "." + fmt],
        }),
      });
    }
    return out;
  }

  function iiifLevels(W, H, tw, th, factors, v3, fmt, base) {
    const out = [];
    factors = factors.slice().sort((a, b) => b - a);
    for (const s of factors) {
      const w = Math.ceil(W / s), h = Math.ceil(H / s);
      out.push({
        w, h, f: s, tw, th, cols: Math.ceil(w / tw), rows: Math.ceil(h / th),
        tile: (c, r) => {
          const rx = c * tw * s, ry = r * th * s;
          const rw = Math.min(tw * s, W - rx), rh = Math.min(th * s, H - ry);
          const sw = Math.ceil(rw / s), sh = Math.ceil(rh / s);
          const size = v3 ? sw + "," + sh : sw + ",";
          const tail = "/" + size + "/0/default." + fmt;
          const xywh = base + rx + "," + ry + "," + rw + "," + rh + tail;
          // A whole-image region is "full" in the canonical form; some
          // writers (libvips 8.14) spell it as x,y,w,h: try both.
          const urls = rw === W && rh === H ? [base + "full" + tail, xywh] : [xywh];
          return { x: c * tw, y: r * th, urls };
        },
      });
    }
    return out;
  }

  function zoomifyLevels(W, H, ts, base) {
    const sizes = [];
    let f = 1;
    for (;;) {
      const w = Math.ceil(W / f), h = Math.ceil(H / f);
      sizes.unshift({ w, h, f });
      if (w <= ts && h <= ts) break;
      f *= 2;
    }
    let first = 0;
    return sizes.map((s, z) => {
      const cols = Math.ceil(s.w / ts), rows = Math.ceil(s.h / ts);
      const start = first;
      first += cols * rows;
      return {
        w: s.w, h: s.h, f: s.f, tw: ts, th: ts, cols, rows,
        tile: (c, r) => ({
          x: c * ts, y: r * ts,
          urls: [base + "TileGroup" + Math.floor((start + r * cols + c) / 256) + "/" +
            z + "-" + c + "-" + r + ".jpg"],
        }),
      };
    });
  }

  function googleLevels(W, H, ts, fmt, base) {
    const Z = log2ceil(Math.max(W, H) / ts);
    const out = [];
    for (let z = 0; z <= Z; z++) {
      const f = 2 ** (Z - z);
      const w = Math.ceil(W / f), h = Math.ceil(H / f);
      out.push({
        w, h, f, tw: ts, th: ts, cols: Math.ceil(w / ts), rows: Math.ceil(h / ts),
        // Blank tiles may be left out (skip-blanks): blank.png stands in.
        tile: (c, r) => ({
          x: c * ts, y: r * ts,
          urls: [base + z + "/" + r + "/" + c + "." + fmt, base + "blank.png"],
        }),
      });
    }
    return out;
  }

  // The image's size and levels (coarsest first) from the configuration
  // and, where it says nothing, the descriptor.
  async function describe() {
    const d = cfg.descriptor || "";
    let W = cfg.width || 0, H = cfg.height || 0, ts = cfg.tileSize || 0;
    let fmt = (cfg.suffix || "").replace(/^\./, "");
    switch (cfg.layout) {
      case "dz": {
        let ov = cfg.overlap || 0;
        if (!(W && H && ts && fmt)) {
          const xml = new DOMParser().parseFromString(await fetchText(d), "application/xml");
          const img = xml.getElementsByTagName("Image")[0];
          const size = xml.getElementsByTagName("Size")[0];
          W = attr(size, "Width"); H = attr(size, "Height");
          ts = attr(img, "TileSize"); ov = attr(img, "Overlap") || 0;
          fmt = img && img.getAttribute("Format");
          if (!(W > 0 && H > 0 && ts > 0 && fmt)) throw new Error(d + ": not a DeepZoom descriptor");
        }
        return { W, H, levels: deepZoomLevels(W, H, ts, ov, fmt, d.replace(/\.(dzi|xml)$/i, "") + "_files/") };
      }
      case "iiif":
      case "iiif3": {
        const info = JSON.parse(await fetchText(d));
        const ctxs = [].concat(info["@context"] || []).join(" ");
        const v3 = cfg.layout === "iiif3" || /image\/3/.test(ctxs);
        W = info.width; H = info.height;
        const t = (info.tiles && info.tiles[0]) || {};
        const tw = t.width || Math.max(W, H), th = t.height || tw;
        const factors = t.scaleFactors && t.scaleFactors.length ? t.scaleFactors : [1];
        if (!(W > 0 && H > 0)) throw new Error(d + ": no width and height");
        // Tiles are looked for beside info.json, whatever its id says.
        return { W, H, levels: iiifLevels(W, H, tw, th, factors, v3, fmt || "jpg", dirOf(d)) };
      }
      case "zoomify": {
        if (!(W && H && ts)) {
          const xml = new DOMParser().parseFromString(await fetchText(d), "application/xml");
          const p = xml.getElementsByTagName("IMAGE_PROPERTIES")[0];
          W = attr(p, "WIDTH"); H = attr(p, "HEIGHT"); ts = attr(p, "TILESIZE");
          if (!(W > 0 && H > 0 && ts > 0)) throw new Error(d + ": not a Zoomify descriptor");
        }
        return { W, H, levels: zoomifyLevels(W, H, ts, dirOf(d) || "") };
      }
      case "google": {
        ts = ts || 256;
        if (!(W && H)) throw new Error("google layout: the page needs the image's size");
        const base = d === "" || d.endsWith("/") ? d : d + "/";
        return { W, H, levels: googleLevels(W, H, ts, fmt || "jpg", base) };
      }
      default:
        throw new Error("unknown layout " + cfg.layout);
    }
  }

  // ---- view state ----
  let W = 1, H = 1, levels = [];
  let zoom = 1, cx = 0, cy = 0; // CSS pixels per image pixel; centre in image pixels
  let minZoom = 0.01, maxZoom = 8, fitZoom = 1;
  const cache = new Map(); // key -> {img, state: "loading"|"ok"|"failed", used, urls, tried}
  let queue = [], inflight = 0, frame = 0, scheduled = false, ready = false;
  let loadedCount = 0, failedCount = 0, level = 0, waiters = [];
  const bg = cfg.background || "#222";

  function cssSize() {
    return [canvas.clientWidth || window.innerWidth, canvas.clientHeight || window.innerHeight];
  }
  function fit() {
    const [cw, ch] = cssSize();
    fitZoom = Math.min(cw / W, ch / H);
    minZoom = fitZoom / 4;
    maxZoom = Math.max(8, fitZoom);
  }
  function clampView() {
    zoom = Math.min(maxZoom, Math.max(minZoom, zoom));
    cx = Math.min(W, Math.max(0, cx));
    cy = Math.min(H, Math.max(0, cy));
  }
  function home() {
    fit();
    zoom = fitZoom; cx = W / 2; cy = H / 2;
    changed();
  }
  function zoomAt(sx, sy, k) {
    const [cw, ch] = cssSize();
    const px = cx + (sx - cw / 2) / zoom, py = cy + (sy - ch / 2) / zoom;
    zoom = Math.min(maxZoom, Math.max(minZoom, zoom * k));
    cx = px - (sx - cw / 2) / zoom;
    cy = py - (sy - ch / 2) / zoom;
    changed();
  }
  function changed() {
    clampView();
    ready = false;
    document.documentElement.dataset.ready = "false";
    schedule();
    clearTimeout(changed.t);
    changed.t = setTimeout(() => {
      const h = "#zoom=" + +zoom.toPrecision(6) + "&x=" + +cx.toFixed(2) + "&y=" + +cy.toFixed(2);
      if (location.hash !== h) history.replaceState(null, "", h);
    }, 250);
  }
  function schedule() {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(render);
    }
  }

  // The coarsest level with at least one level pixel per device pixel.
  function chooseLevel() {
    const want = 1 / (zoom * (window.devicePixelRatio || 1));
    for (let i = 0; i < levels.length; i++) {
      if (levels[i].f <= want * (1 + 1e-9)) return i;
    }
    return levels.length - 1;
  }

  // Tiles of level i that meet the view, centre first.
  function visible(i) {
    const L = levels[i];
    const [cw, ch] = cssSize();
    const x0 = (cx - cw / 2 / zoom) / L.f, x1 = (cx + cw / 2 / zoom) / L.f;
    const y0 = (cy - ch / 2 / zoom) / L.f, y1 = (cy + ch / 2 / zoom) / L.f;
    const c0 = Math.max(0, Math.floor(x0 / L.tw)), c1 = Math.min(L.cols - 1, Math.floor(x1 / L.tw));
    const r0 = Math.max(0, Math.floor(y0 / L.th)), r1 = Math.min(L.rows - 1, Math.floor(y1 / L.th));
    const out = [];
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out.push([c, r]);
    const mc = (x0 + x1) / 2 / L.tw, mr = (y0 + y1) / 2 / L.th;
    out.sort((a, b) => Math.hypot(a[0] + 0.5 - mc, a[1] + 0.5 - mr) - Math.hypot(b[0] + 0.5 - mc, b[1] + 0.5 - mr));
    return out;
  }

  function startLoad(key, t) {
    const img = new Image();
    t.img = img;
    inflight++;
    img.onload = () => {
      inflight--; t.state = "ok"; loadedCount++;
      pump(); schedule();
    };
    img.onerror = () => {
      inflight--;
      if (t.tried + 1 < t.urls.length) {
        t.tried++;
        startLoad(key, t);
        return;
      }
      t.state = "failed"; failedCount++;
      pump(); schedule();
    };
    img.src = t.urls[t.tried];
  }
  function pump() {
    while (inflight < MAX_INFLIGHT && queue.length) {
      const key = queue.shift();
      const t = cache.get(key);
      if (t && t.state === "queued") {
        t.state = "loading";
        startLoad(key, t);
      }
    }
  }
  function evict() {
    if (cache.size <= MAX_CACHE) return;
    const old = [...cache.entries()]
      .filter(([k, t]) => t.state !== "loading" && t.used < frame && !k.startsWith("0/"))
      .sort((a, b) => a[1].used - b[1].used);
    for (const [k] of old.slice(0, cache.size - MAX_CACHE)) cache.delete(k);
  }

  function render() {
    scheduled = false;
    frame++;
    const dpr = window.devicePixelRatio || 1;
    const [cw, ch] = cssSize();
    const pw = Math.round(cw * dpr), ph = Math.round(ch * dpr);
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw;
      canvas.height = ph;
    }
    ctx.fillStyle = bg;
    ctx.fillRect(0, 0, pw, ph);
    if (!levels.length) return;
    level = chooseLevel();
    const k = zoom * dpr;
    const toX = (x) => Math.round((x - cx) * k + pw / 2);
    const toY = (y) => Math.round((y - cy) * k + ph / 2);
    // Retire queued tiles of earlier views: only what is visible now loads.
    for (const key of queue) {
      const t = cache.get(key);
      if (t && t.state === "queued") cache.delete(key);
    }
    queue = [];
    let pending = 0;
    // Coarser levels first, as a backdrop where finer tiles are missing.
    for (let i = 0; i <= level; i++) {
      const L = levels[i];
      ctx.imageSmoothingEnabled = L.f * k < 1;
      for (const [c, r] of visible(i)) {
        const key = i + "/" + c + "/" + r;
        let t = cache.get(key);
        if (!t && (i === level || i === 0)) {
          const d = L.tile(c, r);
          t = { state: "queued", used: frame, urls: d.urls, tried: 0, x: d.x, y: d.y };
          cache.set(key, t);
          queue.push(key);
        }
        if (!t) continue;
        t.used = frame;
        if (t.state === "ok") {
          const x0 = t.x * L.f, y0 = t.y * L.f;
          const x1 = (t.x + t.img.naturalWidth) * L.f, y1 = (t.y + t.img.naturalHeight) * L.f;
          ctx.drawImage(t.img, toX(x0), toY(y0), toX(x1) - toX(x0), toY(y1) - toY(y0));
        } else if (i === level && t.state !== "failed") {
          pending++;
        }
      }
    }
    pump();
    evict();
    ready = pending === 0;
    document.documentElement.dataset.ready = ready ? "true" : "false";
    statusLine.textContent = W + "\u00d7" + H + "  level " + level + "/" + (levels.length - 1) +
      "  zoom " + (zoom * 100).toPrecision(3) + "%" + (ready ? "" : "  loading\u2026") +
      (failedCount ? "  " + failedCount + " tiles failed" : "");
    if (ready) {
      const s = state();
      for (const w of waiters.splice(0)) w(s);
    }
  }

  function state() {
    return { zoom, x: cx, y: cy, fit: fitZoom, level, levels: levels.length, ready,
      loaded: loadedCount, failed: failedCount, width: W, height: H };
  }

  // ---- input ----
  let drag = null;
  canvas.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, id: e.pointerId };
    canvas.setPointerCapture(e.pointerId);
    canvas.style.cursor = "grabbing";
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    cx -= (e.clientX - drag.x) / zoom;
    cy -= (e.clientY - drag.y) / zoom;
    drag.x = e.clientX; drag.y = e.clientY;
    changed();
  });
  const endDrag = () => { drag = null; canvas.style.cursor = ""; };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1;
    // 200 pixels of wheel (two notches of most mice) double the zoom.
    const k = Math.min(4, Math.max(0.25, 2 ** (-e.deltaY * unit / 200)));
    const rect = canvas.getBoundingClientRect();
    zoomAt(e.clientX - rect.left, e.clientY - rect.top, k);
  }, { passive: false });
  canvas.addEventListener("dblclick", (e) => {
    const rect = canvas.getBoundingClientRect();
    zoomAt(e.clientX - rect.left, e.clientY - rect.top, e.shiftKey ? 0.5 : 2);
  });
  const centre = (k) => { const [cw, ch] = cssSize(); zoomAt(cw / 2, ch / 2, k); };
  window.addEventListener("keydown", (e) => {
    const [cw, ch] = cssSize();
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (e.key === "+" || e.key === "=") centre(2);
    else if (e.key === "-" || e.key === "_") centre(0.5);
    else if (e.key === "0" || e.key === "Home") home();
    else if (step) { cx += step[0] * cw / 4 / zoom; cy += step[1] * ch / 4 / zoom; changed(); }
    else return;
    e.preventDefault();
  });
  document.getElementById("zoom-in").addEventListener("click", () => centre(2));
  document.getElementById("zoom-out").addEventListener("click", () => centre(0.5));
  document.getElementById("home").addEventListener("click", home);
  window.addEventListener("resize", () => { fit(); changed(); });
  // A link to another view of the same page (our own replaceState fires
  // no hashchange).
  window.addEventListener("hashchange", () => {
    if (levels.length) { fromFragment(); changed(); }
  });

  function fromFragment() {
    const p = new URLSearchParams(location.hash.slice(1));
    const z = Number(p.get("zoom")), x = Number(p.get("x")), y = Number(p.get("y"));
    if (z > 0) zoom = z;
    if (p.has("x") && isFinite(x)) cx = x;
    if (p.has("y") && isFinite(y)) cy = y;
  }

  window.viewer = {
    zoomIn: () => centre(2),
    zoomOut: () => centre(0.5),
    home,
    zoomTo(z, x, y) { zoom = z; if (x !== undefined) cx = x; if (y !== undefined) cy = y; changed(); },
    get state() { return state(); },
    whenReady() {
      return ready && !scheduled ? Promise.resolve(state()) : new Promise((r) => waiters.push(r));
    },
  };

  describe().then((d) => {
    W = d.W; H = d.H; levels = d.levels;
    home();
    fromFragment();
    changed();
  }).catch((err) => {
    statusLine.textContent = "cannot show the pyramid: " + err.message;
    document.documentElement.dataset.error = err.message;
  });
})();
