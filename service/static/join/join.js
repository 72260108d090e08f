// The join page: sign up or sign in against the public JSON API, then accept the invitation.
// The access token lives in this script's memory only; every text comes from the page's JSON data.
"use strict";

const data = JSON.parse(document.getElementById("join-data").textContent);
const texts = data.texts;
const message = document.getElementById("message");
["signup", "signin"].forEach((id) => { document.getElementById(id).hidden = false; });

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function say(text, ok) {
  message.textContent = text;
  message.className = ok ? "ok" : "";
}

async function call(path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const resp = await fetch(path, { method: "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = {};
  try { json = await resp.json(); } catch (e) { json = {}; }
  return { ok: resp.ok, status: resp.status, body: json };
}

function problem(result) {
  const body = result.body || {};
  let detail = body.detail || body.title || String(result.status);
  if (body.errors && typeof body.errors === "object") {
    const fields = Object.values(body.errors).flatMap((v) => (Array.isArray(v) ? v : Object.values(v || {}).flat()));
    if (fields.length) detail += " " + fields.join(" ");
  }
  return fill(texts.error, { detail });
}

async function signInAndAccept(email, password) {
  const token = await call("/api/v1/auth/token", { grant_type: "password", email, password });
  if (!token.ok) { say(problem(token)); return; }
  const accepted = await call("/api/v1/invitations/" + encodeURIComponent(data.code) + "/accept", undefined,
                              token.body.access_token);
  if (!accepted.ok) { say(problem(accepted)); return; }
  const landed = document.getElementById("landed");
  const lines = [fill(texts.done_organisation, data)];
  if (accepted.body.challenge_id) lines.push(fill(texts.done_challenge, data));
  if (accepted.body.team_id) lines.push(fill(texts.done_team, data));
  lines.push(fill(texts.done_next, { email }));
  landed.replaceChildren(...lines.map((line) => { const li = document.createElement("li"); li.textContent = line; return li; }));
  ["signup", "signin"].forEach((id) => { document.getElementById(id).hidden = true; });
  document.getElementById("done").hidden = false;
  say("", true);
}

function busy(form, on) {
  form.querySelectorAll("button, input").forEach((el) => { el.disabled = on; });
  if (on) say(texts.working, true);
}

function zone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; }
}

function locale() {
  // The browser's tag when it names the language this page was shown in (nl-BE), else that language.
  const page = data.locale || "en";
  const tag = (navigator.language || "").slice(0, 16);
  const valid = /^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$/.test(tag);
  return valid && tag.split(/[-_]/)[0].toLowerCase() === page ? tag : page;
}

document.getElementById("signup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const values = new FormData(form);
  const email = String(values.get("email") || "").trim();
  const password = String(values.get("password") || "");
  const body = { display_name: String(values.get("display_name") || "").trim(), email, password,
                 timezone: zone(), locale: locale() };
  if (values.get("consent")) body.health_data_consent_version = data.notice_version;
  busy(form, true);
  try {
    let made = await call("/api/v1/auth/register", body);
    if (!made.ok && made.body && made.body.errors && made.body.errors.timezone) {
      body.timezone = "UTC";
      made = await call("/api/v1/auth/register", body);
    }
    if (!made.ok) {
      const taken = made.status === 409;
      say(taken ? texts.email_taken : problem(made));
      if (taken) document.getElementById("signin-email").value = email;
      return;
    }
    await signInAndAccept(email, password);
  } catch (e) {
    say(fill(texts.error, { detail: String(e) }));
  } finally {
    busy(form, false);
  }
});

document.getElementById("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const values = new FormData(form);
  busy(form, true);
  try {
    await signInAndAccept(String(values.get("email") || "").trim(), String(values.get("password") || ""));
  } catch (e) {
    say(fill(texts.error, { detail: String(e) }));
  } finally {
    busy(form, false);
  }
});
