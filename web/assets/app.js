// embedsearch serve: the pages' behaviour. Plain JavaScript, no library.
"use strict";

const $ = (sel) => document.querySelector(sel);
let csrf = "";

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

function say(text, err) {
  const m = $("#msg");
  m.textContent = text || "";
  m.classList.toggle("err", !!err);
}

async function api(path, opts) {
  opts = opts || {};
  if (opts.method === "POST") {
    opts.headers = Object.assign({ "X-CSRF-Token": csrf }, opts.headers || {});
    if (opts.json !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.json);
    }
  }
  const r = await fetch(path, opts);
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function thumb(path) { return "/api/thumb?path=" + encodeURIComponent(path); }

function size(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(1) + " MB";
  if (n >= 1e3) return (n / 1e3).toFixed(0) + " kB";
  return n + " B";
}

function date(r) {
  const t = r.taken || r.modified;
  return t ? t.slice(0, 10) + (r.taken ? " (taken)" : "") : "";
}

// ---- search page ----

function initSearch(status) {
  const drop = $("#drop");
  if (status.text) $("#textform").hidden = false;
  const params = () => {
    const p = new URLSearchParams();
    if ($("#filter").value) p.set("filter", $("#filter").value);
    if ($("#in").value) p.set("in", $("#in").value);
    p.set("k", $("#k").value || "60");
    return p;
  };
  const show = (ans, preview) => {
    const q = $("#query");
    q.replaceChildren(preview || "", el("span", { class: "muted" }, " " + ans.query));
    const grid = $("#results");
    grid.replaceChildren();
    if (ans.results.length && ans.close === 0) {
      say(`Nothing close: the nearest is at distance ${ans.results[0].distance.toFixed(3)}, beyond the model's "similar" preset (${ans.similar}).`);
    } else {
      say(`${ans.results.length} results (${ans.close} within the "similar" preset ${ans.similar}; search: ${ans.method})`);
    }
    for (const r of ans.results) {
      const far = ans.similar && r.distance > ans.similar;
      grid.append(el("div", { class: "card" + (far ? " far" : ""), title: r.path, "data-path": r.path, onclick: () => byPath(r.path) },
        el("img", { src: thumb(r.path), loading: "lazy", alt: r.name }),
        el("div", { class: "meta" }, el("b", {}, r.distance.toFixed(3)), " · " + r.name, el("br"),
          `${r.width}×${r.height} · ${size(r.size)}`)));
    }
  };
  const run = async (promise, preview) => {
    say("searching…");
    try { show(await promise, preview); } catch (e) { say(e.message, true); }
  };
  const byFile = (file) => {
    const fd = new FormData();
    fd.append("image", file, file.name || "pasted image");
    for (const [k, v] of params()) fd.append(k, v);
    const img = el("img", { src: URL.createObjectURL(file), alt: "query" });
    run(api("/api/query", { method: "POST", body: fd }), img);
  };
  const byPath = (path) => {
    const p = params(); p.set("path", path);
    run(api("/api/query?" + p), el("img", { src: thumb(path), alt: "query" }));
    window.scrollTo(0, 0);
  };
  $("#file").addEventListener("change", (e) => { if (e.target.files[0]) byFile(e.target.files[0]); });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) byFile(f);
  });
  document.addEventListener("paste", (e) => {
    for (const item of e.clipboardData.items) {
      if (item.type.startsWith("image/")) { byFile(item.getAsFile()); return; }
    }
  });
  $("#textform").addEventListener("submit", (e) => {
    e.preventDefault();
    const p = params(); p.set("text", $("#text").value);
    run(api("/api/query?" + p));
  });
  if (!status.exists) say("The store holds no images yet: index a folder on the status page.", true);
}

// ---- duplicates page ----

let groups = [];   // from /api/dedup, each member with .act (true: act on it)
let current = 0;

function dedupQuery() {
  const p = new URLSearchParams();
  p.set("preset", $("#preset").value);
  p.set("keep", $("#keep").value);
  return p;
}

async function loadGroups() {
  say("grouping…");
  try {
    const ans = await api("/api/dedup?" + dedupQuery());
    groups = ans.groups;
    for (const g of groups) for (const m of g.members) m.act = !m.keep;
    current = Math.min(current, Math.max(0, groups.length - 1));
    const n = ans.groups.length;
    $("#summary").textContent = `${n} group${n === 1 ? "" : "s"} among ${ans.images} images · ${ans.preset} · keep ${ans.policy}`;
    say(groups.length ? "" : "No duplicates at this preset.");
    $("#undo").disabled = !ans.last_journal;
    $("#undo").title = ans.last_journal ? "undo " + ans.last_journal : "nothing to undo";
    render();
  } catch (e) { say(e.message, true); }
}

function render() {
  const box = $("#groups");
  box.replaceChildren();
  const one = $("#view").value === "one";
  groups.forEach((g, gi) => {
    if (one && gi !== current) return;
    const row = el("div", { class: "row" });
    g.members.forEach((m, mi) => {
      const label = m.keep ? "keep" : (m.act ? "act on" : "leave");
      const card = el("div", { class: "card " + (m.keep ? "keep" : m.act ? "act" : ""), title: m.path, "data-path": m.path,
        onclick: () => toggle(gi, mi) },
        el("span", { class: "badge" }, `${mi + 1} ${label}`),
        m.keep ? null : el("button", { class: "mk", title: "make this the keeper",
          onclick: (e) => { e.stopPropagation(); makeKeeper(gi, mi); } }, "keep this"),
        el("img", { src: thumb(m.path), loading: "lazy", alt: m.name }),
        el("div", { class: "meta" }, el("b", {}, m.name), el("br"),
          `${m.width}×${m.height} · ${size(m.size)}`, el("br"), date(m), el("br"), m.folder, el("br"),
          m.keep ? "keeper: " + (g.keep_why || []).join(", ") : `d ${m.distance.toFixed(3)} · ${m.check}`));
      row.append(card);
    });
    const head = el("h3", {}, `Group ${gi + 1} of ${groups.length}`,
      el("span", { class: "muted" }, `largest distance ${g.max_distance.toFixed(3)}`),
      el("button", { class: "notdup", onclick: () => notDup(gi) }, "Not duplicates"));
    box.append(el("div", { class: "group" + (gi === current ? " current" : ""), "data-group": gi,
      onclick: () => { if (current !== gi) { current = gi; markCurrent(); } } }, head, row));
  });
}

function markCurrent() {
  document.querySelectorAll(".group").forEach((g) => g.classList.toggle("current", +g.dataset.group === current));
}

function toggle(gi, mi) {
  const m = groups[gi].members[mi];
  if (!m) return;
  if (!m.keep) m.act = !m.act;
  current = gi;
  render();
}

function makeKeeper(gi, mi) {
  for (const [i, m] of groups[gi].members.entries()) { m.keep = i === mi; m.act = !m.keep; }
  render();
}

async function notDup(gi) {
  const g = groups[gi];
  try {
    await api("/api/notdup", { method: "POST", json: { paths: g.members.map((m) => m.path) } });
    say(`Group ${gi + 1} marked "not duplicates": it will not be proposed again.`);
    await loadGroups();
  } catch (e) { say(e.message, true); }
}

function applyRequest(dry) {
  const op = $("#op").value;
  return {
    preset: $("#preset").value, keep: [$("#keep").value], op, dry_run: dry,
    move_to: op === "move" ? $("#moveto").value : "",
    confirm: op === "delete" ? $("#confirmdelete").value : "",
    yes: op === "hardlink" || op === "symlink",
    // One at a time: the group shown; all groups: every group.
    groups: groups.filter((g, gi) => $("#view").value !== "one" || gi === current).map((g) => ({
      keeper: g.members.find((m) => m.keep).path,
      act: g.members.filter((m) => !m.keep && m.act).map((m) => m.path),
    })).filter((g) => g.act.length),
  };
}

async function planApply() {
  try {
    const ans = await api("/api/apply", { method: "POST", json: applyRequest(true) });
    const n = ans.results.length - ans.refused;
    $("#plan").textContent = `${$("#op").selectedOptions[0].text}: ${n} file(s)` + (ans.refused ? `, ${ans.refused} refused` : "") + ".";
    $("#confirm").hidden = n === 0;
    $("#confirm").focus();
  } catch (e) { say(e.message, true); }
}

async function doApply() {
  $("#confirm").hidden = true;
  $("#plan").textContent = "";
  try {
    const ans = await api("/api/apply", { method: "POST", json: applyRequest(false) });
    const refused = ans.results.filter((r) => r.status === "refused").map((r) => `${r.path}: ${r.reason}`);
    say(`Done: ${ans.done} file(s); journal ${ans.journal}.` + (refused.length ? " Refused: " + refused.join("; ") : "") +
      (ans.error ? " " + ans.error : ""), !!ans.error);
    await loadGroupsKeepMsg();
  } catch (e) { say(e.message, true); }
}

async function loadGroupsKeepMsg() {
  const m = $("#msg").textContent, err = $("#msg").classList.contains("err");
  await loadGroups();
  if (!$("#msg").classList.contains("err")) say(m, err);
}

async function undoLast() {
  try {
    const ans = await api("/api/undo", { method: "POST", json: { journal: "" } });
    say(`Undone ${ans.journal}: ${ans.restored} restored` + (ans.refused ? `, ${ans.refused} refused` : "") + ".", ans.refused > 0);
    await loadGroupsKeepMsg();
  } catch (e) { say(e.message, true); }
}

function initDups() {
  for (const id of ["#preset", "#keep"]) $(id).addEventListener("change", loadGroups);
  $("#view").addEventListener("change", render);
  $("#op").addEventListener("change", () => {
    $("#moveto").hidden = $("#op").value !== "move";
    $("#confirmdelete").hidden = $("#op").value !== "delete";
    $("#confirm").hidden = true;
    $("#plan").textContent = "";
  });
  $("#apply").addEventListener("click", planApply);
  $("#confirm").addEventListener("click", doApply);
  $("#undo").addEventListener("click", undoLast);
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key;
    if (k === "j" || k === "ArrowDown") { current = Math.min(groups.length - 1, current + 1); }
    else if (k === "k" || k === "ArrowUp") { current = Math.max(0, current - 1); }
    else if (k >= "1" && k <= "9") { toggle(current, +k - 1); return; }
    else if (k === "a") { planApply(); return; }
    else if (k === "n") { notDup(current); return; }
    else if (k === "u") { undoLast(); return; }
    else return;
    e.preventDefault();
    render();
    const g = document.querySelector(".group.current");
    if (g) g.scrollIntoView({ block: "nearest" });
  });
  loadGroups();
}

// ---- status page ----

function initStatus(st) {
  const rows = [["store", st.store], ["images", String(st.images)], ["model", st.model || "–"],
    ["folders", (st.roots || []).join("\n") || "–"], ["last index", st.last_indexed || "never"],
    ["search", st.search ? st.search + (st.search_note ? " (" + st.search_note + ")" : "") : "–"],
    ["text queries", st.text ? "yes" : "no (the model has no text tower)"], ["last action", st.last_journal || "–"]];
  $("#facts").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))));
  $("#index").disabled = !st.can_index;
  $("#index").onclick = async () => {
    try { await api("/api/index", { method: "POST" }); follow(); } catch (e) { say(e.message, true); }
  };
  $("#cancel").onclick = () => api("/api/index/cancel", { method: "POST" }).catch((e) => say(e.message, true));
  if (st.index.running) follow();
}

function follow() {
  const bar = $("#bar");
  bar.hidden = false; $("#cancel").hidden = false; $("#index").disabled = true;
  const es = new EventSource("/api/index/events");
  es.onmessage = async (ev) => {
    const s = JSON.parse(ev.data);
    $("#phase").textContent = `${s.phase} ${s.todo ? s.done + " / " + s.todo : s.scanned + " files"}`;
    if (s.todo) { bar.max = s.todo; bar.value = s.done; } else bar.removeAttribute("value");
    if (!s.running) {
      es.close();
      bar.hidden = true; $("#cancel").hidden = true; $("#phase").textContent = "";
      $("#summary").textContent = s.summary || "";
      if (s.error) say(s.error, true);
      initStatus(await api("/api/status"));
    }
  };
  es.onerror = () => es.close();
}

// ---- start ----

(async () => {
  try {
    csrf = (await api("/api/session")).csrf;
    const st = await api("/api/status");
    const page = document.body.dataset.page;
    if (page === "search") initSearch(st);
    else if (page === "dups") initDups();
    else initStatus(st);
    document.body.dataset.ready = "1";
  } catch (e) { say(e.message, true); }
})();
