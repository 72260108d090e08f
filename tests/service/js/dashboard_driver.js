// Drives service/static/dashboard/app.js in Node against a live server, with a minimal fake DOM.
// Usage: node dashboard_driver.js APP_JS BASE_URL EMAIL PASSWORD  -> prints one JSON summary line.
"use strict";
const fs = require("fs");
const vm = require("vm");

const [appJs, base, email, password] = process.argv.slice(2);

class El {
  constructor(tag, id) { this.tagName = tag; this.id = id; this.children = []; this.attrs = {};
    this._text = ""; this.hidden = false; this.listeners = {}; this.onclick = null; this.values = {}; }
  set textContent(v) { this._text = String(v); this.children = []; }
  get textContent() { return [this._text, ...this.children.map((c) => c.textContent)].filter(Boolean).join(" "); }
  appendChild(c) { this.children.push(c); return c; }
  replaceChildren(...cs) { this.children = cs; this._text = ""; }
  setAttribute(k, v) { this.attrs[k] = v; }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  async fire(type, event) {
    for (const fn of this.listeners[type] || []) await fn(event);
    if (type === "click" && this.onclick) await this.onclick(event);
  }
  all(tag) { return this.children.flatMap((c) => [...(c.tagName === tag ? [c] : []), ...c.all(tag)]); }
}

const elements = {};
const document = {
  getElementById: (id) => (elements[id] = elements[id] || new El("div", id)),
  createElement: (tag) => new El(tag),
};
const storage = new Map();
const window = {
  sessionStorage: { getItem: (k) => (storage.has(k) ? storage.get(k) : null),
                    setItem: (k, v) => storage.set(k, String(v)), removeItem: (k) => storage.delete(k) },
  location: { pathname: "/dashboard" },
  history: { replaceState() {} },
};
class FakeFormData { constructor(form) { this.form = form; } get(name) { return this.form.values[name]; } }
const saved = [];  // what the page handed to the browser to save: {download, text}
const blobs = new Map();
const FakeURL = { createObjectURL: (blob) => { const u = "blob:" + blobs.size; blobs.set(u, blob); return u; } };
document.body = new El("body");
El.prototype.click = async function click() {
  if (this.tagName === "a") saved.push({ download: this.attrs.download, blob: blobs.get(this.attrs.href) });
};
El.prototype.remove = function remove() {};
const context = vm.createContext({ document, window, FormData: FakeFormData, console, JSON, Object, Array,
  String, Boolean, encodeURIComponent, decodeURIComponent, Promise, setTimeout, URL: FakeURL,
  setInterval: () => 0, clearInterval: () => {},
  fetch: (url, opts) => fetch(base + url, opts) });

async function until(what, test, ms = 15000) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out waiting for " + what + "; message: " + document.getElementById("message").textContent);
}

(async () => {
  vm.runInContext(fs.readFileSync(appJs, "utf8"), context, { filename: "app.js" });
  const $ = document.getElementById;
  const summary = { loginVisibleAtStart: !$("login-panel").hidden };
  const form = $("login-form");
  form.values = { email: email, password: "wrong password" };
  await form.fire("submit", { preventDefault() {}, target: form });
  summary.wrongPasswordMessage = $("message").textContent;
  form.values = { email: email, password: password };
  await form.fire("submit", { preventDefault() {}, target: form });
  await until("organisations", () => $("orgs").all("button").length > 0);
  summary.who = $("who").textContent;
  summary.orgs = $("orgs").all("li").map((li) => li.textContent);
  await $("orgs").all("button")[0].fire("click");
  await until("challenges", () => $("challenges").children.length > 0);
  summary.challenges = $("challenges").all("li").map((li) => li.textContent);
  const buttons = $("challenges").all("button");
  if (buttons.length) {  // the cycling month if there is one: the demo's implausible rides await review there
    await (buttons.find((b) => /cycling/i.test(b.textContent)) || buttons[0]).fire("click");
    await until("standings and report", () => $("standings").children.length > 0 && $("report").children.length > 0);
    summary.challengeTitle = $("challenge-title").textContent;
    summary.standings = $("standings").textContent;
    summary.standingsTables = $("standings").all("table").length;
    summary.standingsRows = $("standings").all("tr").length;
    summary.report = $("report").textContent;
    summary.reportTables = $("report").all("table").length;
    await until("review queue", () => $("review").children.length > 0);
    summary.reviewBefore = $("review").all("li").length;
    const approve = $("review").all("button").find((b) => b.textContent === "Approve");
    if (approve) {
      await approve.fire("click");
      await until("review queue again", () => $("review").all("li").length !== summary.reviewBefore);
      summary.reviewAfter = $("review").all("li").length;
    }
    const csv = $("report").all("button").find((b) => b.textContent === "Download CSV");
    if (csv) {
      await csv.fire("click");
      await until("csv saved", () => saved.length > 0);
      summary.csvName = saved[0].download;
      summary.csvHeader = (await saved[0].blob.text()).split("\r\n")[0];
    }
  }
  const team = $("teams").all("li")[0];
  if (team) {  // the open challenge's first team (a city, a department): its roster, and a new code if it has one
    await team.all("button").find((b) => b.textContent === "Members").fire("click");
    await until("roster", () => team.all("tr").length > 0);
    summary.rosterRows = team.all("tr").length;
    summary.rosterText = team.textContent;
    const fresh = team.all("button").find((b) => b.textContent === "New code");
    if (fresh) {
      await fresh.fire("click");
      await until("new code", () => /new code/.test($("message").textContent));
      summary.newCodeMessage = $("message").textContent;
    }
  }
  const badgeForm = $("badge-form");
  if ($("badges").children.length) {  // the open challenge's badges: add one of its own, refuse a bad one, delete it
    summary.badgesBefore = $("badges").all("li").length;
    badgeForm.values = { name: "Never", kind: "streak", amount: "1" };
    await badgeForm.fire("submit", { preventDefault() {}, target: badgeForm });
    await until("badge refused", () => /Could not add the badge/.test($("message").textContent));
    summary.badgeRefused = $("message").textContent;
    badgeForm.values = { name: "Hundred kilometres", kind: "total_at_least", amount: "100" };
    await badgeForm.fire("submit", { preventDefault() {}, target: badgeForm });
    await until("badge added", () => $("badges").all("li").length === summary.badgesBefore + 1);
    summary.badgeAdded = $("message").textContent;
    const mine = $("badges").all("li").find((li) => li.textContent.includes("Hundred kilometres"));
    summary.badgeListed = mine ? mine.textContent : null;
    await mine.all("button").find((b) => b.textContent === "Delete").fire("click");
    await until("badge deleted", () => $("badges").all("li").length === summary.badgesBefore);
    summary.badgeDeleted = $("message").textContent;
  }
  const first = $("challenges").all("button")[0];
  if (first) {  // run a challenge again next year, find the copy as a draft, and delete that draft
    const title = first.textContent;
    const before = $("challenges").all("li").length;
    await first.fire("click");
    await until("actions", () => $("actions").all("button").length > 0);
    await $("actions").all("button").find((b) => b.textContent === "Run again next year").fire("click");
    await until("copy listed", () => $("challenges").all("li").length === before + 1);
    summary.copyMessage = $("message").textContent;
    const draft = $("challenges").all("li").find((li) => /draft/.test(li.textContent) && li.textContent.includes(title));
    summary.copyListed = draft ? draft.textContent : null;
    if (draft) {
      await draft.all("button")[0].fire("click");
      await until("draft actions", () => $("actions").all("button").some((b) => b.textContent === "Delete draft"));
      await $("actions").all("button").find((b) => b.textContent === "Delete draft").fire("click");
      await until("draft gone", () => $("challenges").all("li").length === before);
      summary.afterDelete = $("message").textContent;
    }
  }
  const park = $("challenges").all("button").find((b) => /outdoor gyms/i.test(b.textContent));
  if (park) {
    await park.fire("click");
    await until("check-in codes", () => $("codes").all("button").length > 0);
    await $("codes").all("button")[0].fire("click");
    await until("code image", () => $("code-image").all("img").length > 0);
    const img = $("code-image").all("img")[0];
    summary.codeTitle = $("code-title").textContent;
    summary.codeSvg = (await blobs.get(img.attrs.src).text()).slice(0, 4);
    await $("code-close").fire("click");
    summary.codeClosed = $("code-panel").hidden;
  }
  await $("logout").fire("click");
  summary.loginVisibleAfterLogout = !$("login-panel").hidden;
  summary.tokensAfterLogout = storage.size;
  console.log(JSON.stringify(summary));
})().catch((err) => { console.log(JSON.stringify({ error: String(err && err.stack || err) })); process.exit(1); });
