// Organiser dashboard: plain JS over the public JSON API. Every endpoint may be missing or refuse;
// each panel then says so and the rest of the page keeps working. All text goes in via textContent.
"use strict";

const store = window.sessionStorage;
const $ = (id) => document.getElementById(id);

function say(text) { $("message").textContent = text || ""; }

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  return node;
}

function items(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.items)) return body.items;
  if (body && Array.isArray(body.entries)) return body.entries;
  if (body && Array.isArray(body.rows)) return body.rows;
  return [];
}

async function refreshTokens() {
  const refresh = store.getItem("refresh_token");
  if (!refresh) return false;
  const resp = await fetch("/api/v1/auth/token", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ grant_type: "refresh_token", refresh_token: refresh }),
  });
  if (!resp.ok) { signOutLocally(); return false; }
  saveTokens(await resp.json());
  return true;
}

function saveTokens(tokens) {
  store.setItem("access_token", tokens.access_token);
  store.setItem("refresh_token", tokens.refresh_token);
}

function signOutLocally() {
  store.removeItem("access_token");
  store.removeItem("refresh_token");
  render();
}

// A request with the bearer token, refreshed once on 401; the raw response, or null on a network error.
async function authed(path, options, retried) {
  const opts = Object.assign({ headers: {} }, options || {});
  opts.headers = Object.assign({ Authorization: "Bearer " + store.getItem("access_token") }, opts.headers);
  let resp;
  try {
    resp = await fetch(path, opts);
  } catch (err) {
    return null;
  }
  if (resp.status === 401 && !retried && (await refreshTokens())) return authed(path, options, true);
  return resp;
}

// GET/POST of JSON through authed(). Returns {ok, status, body}.
async function api(path, options) {
  const resp = await authed(path, options);
  if (!resp) return { ok: false, status: 0, body: { detail: "network error" } };
  let body = null;
  try { body = await resp.json(); } catch (err) { body = null; }
  return { ok: resp.ok, status: resp.status, body };
}

// The problem+json detail of an api() result, or the fallback.
function detail(result, fallback) {
  return (result.body && result.body.detail) || fallback;
}

function unavailable(container, result) {
  // a 403 is the privacy policy speaking (e.g. no individual figures for an employer): say it as it is
  container.replaceChildren(el("p", result.status === 404
    ? "Not available on this server yet."
    : result.status === 403 ? detail(result, "Not shown to you.")
    : "Could not load (" + detail(result, "HTTP " + result.status) + ").",
  { class: "muted" }));
}

// A panel listing the items of an api() result, one <li> each from itemOf; or why not, or that there are none.
function listPanel(box, result, empty, itemOf) {
  if (!result.ok) { unavailable(box, result); return; }
  const rows = items(result.body);
  if (!rows.length) { box.replaceChildren(el("p", empty, { class: "muted" })); return; }
  const list = el("ul");
  rows.forEach((row) => list.appendChild(itemOf(row)));
  box.replaceChildren(list);
}

// A table from a list of flat objects; nested values are shown as JSON.
function table(rows, preferred) {
  if (!rows.length) return el("p", "Nothing yet.", { class: "muted" });
  const keys = preferred && preferred.filter((k) => k in rows[0]).length
    ? preferred.filter((k) => k in rows[0])
    : Object.keys(rows[0]).slice(0, 8);
  const t = el("table");
  const head = el("tr");
  keys.forEach((k) => head.appendChild(el("th", k.replace(/_/g, " "))));
  t.appendChild(head);
  rows.forEach((row) => {
    const tr = el("tr");
    keys.forEach((k) => {
      const v = row[k];
      tr.appendChild(el("td", v !== null && typeof v === "object" ? JSON.stringify(v) : v));
    });
    t.appendChild(tr);
  });
  return t;
}

function reportView(body) {
  if (!body || typeof body !== "object") return el("p", "Empty report.", { class: "muted" });
  const wrap = el("div");
  const scalars = Object.entries(body).filter(([, v]) => v === null || typeof v !== "object");
  if (scalars.length) wrap.appendChild(table(scalars.map(([k, v]) => ({ figure: k, value: v }))));
  Object.entries(body).filter(([, v]) => v && typeof v === "object").forEach(([k, v]) => {
    wrap.appendChild(el("h4", k.replace(/_/g, " ")));
    const rows = Array.isArray(v) ? v : Object.entries(v).map(([kk, vv]) => ({ key: kk, value: vv }));
    wrap.appendChild(table(rows.map((r) => (r && typeof r === "object" ? r : { value: r }))));
  });
  return wrap;
}

// "2026-05-01T00:00:00+03:00" -> "2027-05-01T00:00:00": the same wall-clock time a year on (29 Feb -> 28 Feb).
function nextYear(local) {
  const wall = String(local).slice(0, 19).replace("-02-29T", "-02-28T");
  return String(Number(wall.slice(0, 4)) + 1) + wall.slice(4);
}

// Run again next year (a copy as a new draft) for every challenge; delete for a draft.
function actions(challenge) {
  const box = el("div");
  const again = el("button", "Run again next year", { type: "button" });
  again.onclick = async () => {
    const done = await api("/api/v1/challenges/" + challenge.id + "/copy", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ starts_at: nextYear(challenge.starts_at), ends_at: nextYear(challenge.ends_at) }),
    });
    if (!done.ok) { say("Could not copy: " + detail(done, "HTTP " + done.status)); return; }
    say("Copied as a draft starting " + done.body.starts_at + "; edit it, then publish it.");
    if (currentOrg) await showOrganisation(currentOrg);
  };
  box.appendChild(again);
  if ((challenge.phase || challenge.status) === "draft") {
    const drop = el("button", "Delete draft", { type: "button" });
    drop.onclick = async () => {
      const resp = await authed("/api/v1/challenges/" + challenge.id, { method: "DELETE" });
      if (!resp || resp.status !== 204) { say("Could not delete the draft (HTTP " + (resp ? resp.status : 0) + ")."); return; }
      say("Draft deleted.");
      if (currentOrg) await showOrganisation(currentOrg);
    };
    box.appendChild(drop);
  }
  return box;
}

async function showChallenge(challenge) {
  $("detail-panel").hidden = false;
  $("challenge-title").textContent = challenge.title || challenge.name || "Challenge " + challenge.id;
  $("actions").replaceChildren(actions(challenge));
  // the board that fits the format (the API says which: organisations, teams or people)
  const standings = await api("/api/v1/challenges/" + challenge.id + "/leaderboards?scope=" + challenge.format_rules.main_board);
  if (standings.ok) {
    $("standings").replaceChildren(table(items(standings.body), ["rank", "name", "team_name", "value", "points", "total"]));
    // workplace and school challenges: groups below the minimum size (and their complements) are left out
    if (standings.body.hidden_groups) {
      $("standings").appendChild(el("p", standings.body.hidden_groups + " group(s) not shown: fewer than " +
        standings.body.min_group_size + " people, or hidden so that no small group can be worked out.", { class: "muted" }));
    }
  } else unavailable($("standings"), standings);
  const report = await api("/api/v1/challenges/" + challenge.id + "/report");
  if (report.ok) $("report").replaceChildren(csvButton(challenge.id), reportView(report.body));
  else unavailable($("report"), report);
  await showTeams(challenge);
  await showBadges(challenge);
  await showReview(challenge);
  await showCodes(challenge);
}

// Teams (departments, cities) with their member counts; each roster on demand, and a fresh join code
// for a team-format team whose code leaked (the old one stops working).
async function showTeams(challenge) {
  const box = $("teams");
  if (!challenge.format_rules.teams) {
    box.replaceChildren(el("p", "This challenge has no teams.", { class: "muted" }));
    return;
  }
  const base = "/api/v1/challenges/" + challenge.id + "/teams";
  listPanel(box, await api(base + "?limit=500"), "No teams yet.", (t) => {
    const li = el("li", t.name + ": " + t.members + " member(s)" + (t.code ? ", code " + t.code : ""));
    const roster = el("div");
    const who = el("button", "Members", { type: "button" });
    who.onclick = async () => {
      const page = await api(base + "/" + t.id + "/members?limit=500");
      if (!page.ok) { unavailable(roster, page); return; }
      roster.replaceChildren(table(items(page.body).map((m) => ({ name: m.name, points: m.points, joined: m.joined_at }))));
    };
    li.appendChild(who);
    if (challenge.format_rules.team_codes) {
      const fresh = el("button", "New code", { type: "button" });
      fresh.onclick = async () => {
        const done = await api(base + "/" + t.id, {
          method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ new_code: true }),
        });
        if (!done.ok) { say("Could not change the code: " + detail(done, "HTTP " + done.status)); return; }
        say("Team " + done.body.name + " has a new code: " + done.body.code + "; the old one no longer works.");
        await showTeams(challenge);
      };
      li.appendChild(fresh);
    }
    li.appendChild(roster);
    return li;
  });
}

// What earns a badge, in words.
function earnedBy(c) {
  switch (c.kind) {
    case "total_at_least": return c.points + " points in the challenge";
    case "checkin_locations": return "check-ins at " + c.count + " different spots";
    case "streak": return c.length + " " + (c.unit || "day") + "s in a row";
    case "who_weeks": return c.weeks + " weeks meeting the WHO 150 minutes";
    case "first_activity": return "a first activity";
    case "top_n_finish": return "top " + c.n + " at the end";
    case "collective_goal": return (c.scope === "team" ? "the team" : "everyone together") + " reaching the goal";
    default: return c.kind;
  }
}

const BADGE_AMOUNT = { total_at_least: "points", checkin_locations: "count", streak: "length", who_weeks: "weeks" };
let badgeChallenge = null;

// Badges that can be earned: the built-in ones (every challenge) and this challenge's own, which organisers
// add here and may delete while nobody holds them.
async function showBadges(challenge) {
  badgeChallenge = challenge;
  const base = "/api/v1/challenges/" + challenge.id + "/badges";
  listPanel($("badges"), await api(base), "No badges yet.", (b) => {
    const li = el("li", b.name + ": " + earnedBy(b.criteria || {}) + (b.challenge_id ? "" : " (every challenge)"));
    if (b.challenge_id) {
      const drop = el("button", "Delete", { type: "button" });
      drop.onclick = async () => {
        const done = await api(base + "/" + encodeURIComponent(b.code), { method: "DELETE" });
        if (!done.ok) { say("Could not delete the badge: " + detail(done, "HTTP " + done.status)); return; }
        say("Badge " + b.name + " deleted.");
        await showBadges(challenge);
      };
      li.appendChild(drop);
    }
    return li;
  });
}

$("badge-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!badgeChallenge) return;
  const form = new FormData(event.target);
  const kind = form.get("kind");
  const criteria = { kind: kind };
  criteria[BADGE_AMOUNT[kind]] = Number(form.get("amount"));
  const done = await api("/api/v1/challenges/" + badgeChallenge.id + "/badges", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: form.get("name"), criteria: criteria }),
  });
  if (!done.ok) { say("Could not add the badge: " + detail(done, "HTTP " + done.status)); return; }
  say("Badge " + done.body.name + " added: " + earnedBy(done.body.criteria) + ".");
  await showBadges(badgeChallenge);
});

// Locations of a check-in challenge, each with a full-screen rotating QR code for a screen at the spot.
async function showCodes(challenge) {
  const box = $("codes");
  const places = await api("/api/v1/challenges/" + challenge.id + "/locations?limit=500");
  listPanel(box, places, "No check-in locations.", (place) => {
    const li = el("li", place.name + " ");
    const button = el("button", "Show code", { type: "button" });
    button.onclick = () => showCode(challenge, place);
    li.appendChild(button);
    return li;
  });
}

let codeTimer = null;

async function showCode(challenge, place) {
  $("code-panel").hidden = false;
  $("code-title").textContent = place.name;
  const path = "/api/v1/challenges/" + challenge.id + "/locations/" + place.id + "/qr.svg";
  const refresh = async () => {
    const resp = await authed(path);
    if (!resp || !resp.ok) {
      $("code-image").replaceChildren(el("p", "Could not load the code (HTTP " + (resp ? resp.status : 0) + ")."));
      return;
    }
    const img = el("img", null, { alt: "check-in code for " + place.name, src: URL.createObjectURL(await resp.blob()) });
    $("code-image").replaceChildren(img);
  };
  if (codeTimer) clearInterval(codeTimer);
  await refresh();
  codeTimer = setInterval(refresh, 30000);  // well inside the rotation window
  $("code-close").onclick = () => { clearInterval(codeTimer); codeTimer = null; $("code-panel").hidden = true; };
}

// Flagged activity of this challenge, oldest first, each with Approve / Reject (decided in this challenge only).
async function showReview(challenge) {
  const box = $("review");
  const queue = await api("/api/v1/challenges/" + challenge.id + "/review-queue?limit=50");
  listPanel(box, queue, "Nothing to review.", (row) => {
    const a = row.activity || {};
    const figures = [a.type, a.started_at, a.duration_s ? Math.round(a.duration_s / 60) + " min" : null,
      a.distance_m ? (a.distance_m / 1000).toFixed(1) + " km" : null, a.steps ? a.steps + " steps" : null];
    const li = el("li", (row.display_name || "participant") + ": " + figures.filter(Boolean).join(", "));
    li.appendChild(el("span", " — " + (row.reason || ""), { class: "muted" }));
    ["approve", "reject"].forEach((decision) => {
      const button = el("button", decision === "approve" ? "Approve" : "Reject", { type: "button" });
      button.onclick = async () => {
        const done = await api("/api/v1/activities/" + a.id + "/" + decision, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ challenge_id: challenge.id }),
        });
        say(done.ok ? "" : detail(done, "Could not " + decision + "."));
        await showChallenge(challenge);
      };
      li.appendChild(button);
    });
    return li;
  });
}

// The same (suppressed) report as a CSV file, fetched with the organiser's token and saved by the browser.
function csvButton(challengeId) {
  const button = el("button", "Download CSV", { type: "button" });
  button.onclick = async () => {
    const path = "/api/v1/challenges/" + challengeId + "/report.csv";
    const resp = await authed(path);
    if (!resp || !resp.ok) { say("Could not download the report (HTTP " + (resp ? resp.status : 0) + ")."); return; }
    const link = el("a", "", { href: URL.createObjectURL(await resp.blob()),
      download: "challenge-" + challengeId + "-report.csv" });
    document.body.appendChild(link);
    link.click();
    link.remove();
  };
  return button;
}

let currentOrg = null;

async function showOrganisation(org) {
  currentOrg = org;
  $("challenges-panel").hidden = false;
  $("detail-panel").hidden = true;
  $("org-name").textContent = "— " + org.name;
  const list = $("challenges");
  const result = await api("/api/v1/challenges?organisation_id=" + encodeURIComponent(org.id));
  if (!result.ok) { unavailable(list, result); return; }
  const challenges = items(result.body);
  list.replaceChildren();
  if (!challenges.length) list.appendChild(el("li", "No challenges yet.", { class: "muted" }));
  challenges.forEach((c) => {
    const li = el("li");
    const button = el("button", c.title || c.name || "Challenge " + c.id);
    button.addEventListener("click", () => showChallenge(c));
    li.appendChild(button);
    const when = [c.starts_at, c.ends_at].filter(Boolean).join(" → ");
    const phase = c.phase || c.status;
    if (phase || when) li.appendChild(el("span", " " + [phase, when].filter(Boolean).join(", "), { class: "muted" }));
    list.appendChild(li);
  });
}

async function loadOrganisations() {
  const me = await api("/api/v1/me");
  if (!me.ok) { signOutLocally(); return; }
  $("who").textContent = me.body.display_name + " <" + me.body.email + ">";
  const result = await api("/api/v1/organisations?limit=100");
  const list = $("orgs");
  if (!result.ok) { unavailable(list, result); return; }
  list.replaceChildren();
  const orgs = items(result.body);
  if (!orgs.length) list.appendChild(el("li", "You do not belong to any organisation yet.", { class: "muted" }));
  orgs.forEach((org) => {
    const li = el("li");
    const button = el("button", org.name);
    button.addEventListener("click", () => showOrganisation(org));
    li.appendChild(button);
    li.appendChild(el("span", " " + org.kind + ", your role: " + org.my_role, { class: "muted" }));
    list.appendChild(li);
  });
  if (orgs.length === 1) showOrganisation(orgs[0]);
}

function joinCode() {
  const match = window.location.pathname.match(/^\/join\/([^/]+)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

async function showJoin(code) {
  $("join-panel").hidden = false;
  const preview = await api("/api/v1/invitations/" + encodeURIComponent(code));
  if (!preview.ok) {
    $("join-text").textContent = detail(preview, "This invitation cannot be used.");
    $("join-accept").hidden = true;
    return;
  }
  $("join-text").textContent = "Join " + preview.body.organisation_name + " as " + preview.body.role + "?";
  $("join-accept").onclick = async () => {
    const result = await api("/api/v1/invitations/" + encodeURIComponent(code) + "/accept", { method: "POST" });
    say(result.ok ? "" : detail(result, "Could not accept the invitation."));
    if (result.ok) { window.history.replaceState(null, "", "/dashboard"); $("join-panel").hidden = true; loadOrganisations(); }
  };
}

function render() {
  const signedIn = Boolean(store.getItem("access_token"));
  $("login-panel").hidden = signedIn;
  $("logout").hidden = !signedIn;
  ["orgs-panel"].forEach((id) => { $(id).hidden = !signedIn; });
  if (!signedIn) {
    ["challenges-panel", "detail-panel", "join-panel", "code-panel"].forEach((id) => { $(id).hidden = true; });
    $("who").textContent = "";
    return;
  }
  const code = joinCode();
  if (code) showJoin(code);
  loadOrganisations();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  say("");
  let resp;
  try {
    resp = await fetch("/api/v1/auth/token", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ grant_type: "password", email: form.get("email"), password: form.get("password") }),
    });
  } catch (err) { say("The server cannot be reached."); return; }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) { say(body.detail || "Sign-in failed."); return; }
  saveTokens(body);
  render();
});

$("logout").addEventListener("click", async () => {
  const refresh = store.getItem("refresh_token");
  if (refresh) {
    await fetch("/api/v1/auth/logout", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: refresh }),
    }).catch(() => null);
  }
  signOutLocally();
});

render();
