// LLM Twin web app: plain ES2020, no framework, no build step.
// Security rule: text from the API only ever reaches the page through textContent, value or
// createElement (the el() helper below); never through innerHTML or similar.

import { previewPane } from "./preview.js";
import { setupBlindTest } from "./blind_test.js";
import { setupPastPosts } from "./past_posts.js";

const TOKEN_KEY = "llm-twin-token";
const JOB_POLL_MS = 1000;
const PREVIEW_DEBOUNCE_MS = 300; // an edit of the draft's text, then its preview is redrawn

const $ = (selector, root = document) => root.querySelector(selector);

const state = {
  status: null,
  jobs: new Map(), // job id -> {container, onDone}
};
let blindTest = null; // blind_test.js's view, set up in start()
let pastPosts = null; // past_posts.js's panel beside the idea box

// ---- DOM helpers --------------------------------------------------------------------------

/** createElement with text content, attributes and children; `text` is set as textContent. */
function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  const { text, className, attrs = {}, ...props } = options;
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
  }
  Object.assign(node, props);
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

/** An http(s) URL as an href, or null: no javascript:, data: or relative links from data. */
function safeHref(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A label that links to its URL when that URL is http(s), plain text otherwise. */
function sourceLabel(label, url) {
  const href = safeHref(url);
  const text = label || url || "(untitled)";
  if (!href) return el("span", { text });
  return el("a", { text, href, rel: "noopener noreferrer", target: "_blank" });
}

function formatDate(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function percent(value) {
  return `${Math.round(Number(value) * 100)}%`;
}

function snippet(text, length = 140) {
  const flat = String(text ?? "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

let messageTimer = null;
/** Shows a status or error message in the polite live region. */
function say(message, kind = "info") {
  const box = $("#messages");
  box.replaceChildren(el("p", { text: message, className: `message message-${kind}` }));
  clearTimeout(messageTimer);
  if (kind === "info") messageTimer = setTimeout(() => box.replaceChildren(), 8000);
}

function setBusy(button, busy, busyText) {
  if (busy) {
    button.dataset.label = button.dataset.label || button.textContent;
    button.disabled = true;
    if (busyText) button.textContent = busyText;
  } else {
    button.disabled = false;
    if (button.dataset.label) button.textContent = button.dataset.label;
  }
}

// ---- API ----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The human-readable `detail` of an error body (FastAPI's validation errors are a list). */
function detailText(body, fallback) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => [Array.isArray(d.loc) ? d.loc.slice(1).join(".") : "", d.msg]
      .filter(Boolean).join(": ")).join("; ");
  }
  return fallback;
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: fall back to the status line
  }
  const fallback = `${response.status} ${response.statusText || "error"}`.trim();
  if (response.status === 401) showTokenForm();
  return new ApiError(response.status, detailText(body, fallback));
}

async function rawFetch(path, { method = "GET", json, body, headers = {} } = {}) {
  const init = { method, headers: { ...authHeaders(), ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, `The twin's server cannot be reached (${error.message}).`);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

async function api(path, options) {
  const response = await rawFetch(path, options);
  if (response.status === 204) return null;
  return response.json();
}

/** Runs an async action; shows its error in the message region instead of throwing. */
async function guarded(action) {
  try {
    return await action();
  } catch (error) {
    say(error.message || String(error), "error");
    return undefined;
  }
}

// ---- token --------------------------------------------------------------------------------

function showTokenForm() {
  const form = $("#token-form");
  if (form.hidden) {
    form.hidden = false;
    $("#token").focus();
  }
}

function setupToken() {
  $("#token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("#token").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("#token").value = "";
    $("#token-form").hidden = true;
    say("Token saved for this browser tab.");
    await refreshAll();
  });
}

// ---- navigation ---------------------------------------------------------------------------

const VIEWS = ["compose", "sources", "training", "history", "blind-test"];
const LOADERS = {
  compose: () => {},
  sources: () => loadSources(),
  training: () => Promise.all([loadDatasets(), loadModels()]),
  history: () => loadHistory(),
  "blind-test": () => blindTest && blindTest.load(),
};

function currentView() {
  const name = location.hash.replace(/^#/, "");
  return VIEWS.includes(name) ? name : "compose";
}

function showView() {
  const name = currentView();
  for (const view of VIEWS) $(`#${view}`).hidden = view !== name;
  for (const link of document.querySelectorAll("nav a[data-section]")) {
    if (link.dataset.section === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  guarded(LOADERS[name]);
}

function setupNavigation() {
  window.addEventListener("hashchange", () => {
    showView();
    // The section took the anchor's place: move focus to its heading for keyboard users.
    const heading = $(`#${currentView()} h1`);
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  });
  showView();
}

// ---- status -------------------------------------------------------------------------------

async function loadStatus() {
  const status = await api("/api/status");
  state.status = status;
  const parts = [];
  parts.push(status.owner ? `Owner: ${status.owner}` : "No owner set");
  parts.push(`${status.documents ?? 0} documents`);
  parts.push(status.indexed ? "indexed" : "not indexed yet");
  const model = status.model || {};
  parts.push(`Model: ${model.label || model.id || "base"}`);
  $("#status-line").textContent = parts.join(" · ");

  const select = $("#platform");
  const previous = select.value;
  const platforms = Array.isArray(status.platforms) ? status.platforms : [];
  select.replaceChildren(...platforms.map((p) => el("option", { text: p, value: p })));
  if (platforms.includes(previous)) select.value = previous;
  $("#voice-state").textContent = status.voice_model
    ? "A voice model is fitted: every draft shows how much it sounds like you. Refit it after " +
      "importing more of your writing or building a new dataset."
    : "No voice model yet: fit one to score and rank drafts by how much they sound like you " +
      "(your texts against the base model's drafts and other authors; about a minute).";
  $("#fit-voice").textContent = status.voice_model ? "Refit the voice model" : "Fit the voice model";
  updateVoiceHint();
  return status;
}

/** Under "Number of drafts": with 2+ drafts and no voice model, the write fits one first. */
function updateVoiceHint() {
  const n = Number.parseInt($("#n").value, 10) || 1;
  const status = state.status || {};
  $("#voice-hint").hidden = n < 2 || status.voice_model !== false;
}

// ---- compose ------------------------------------------------------------------------------

/** Parses text/event-stream frames out of a fetch body; calls onEvent(name, data) for each. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const flush = (frame) => {
    let name = "message";
    const data = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return;
    let parsed;
    try {
      parsed = JSON.parse(data.join("\n"));
    } catch {
      parsed = { text: data.join("\n") };
    }
    onEvent(name, parsed);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    buffer = buffer.replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) !== -1) {
      flush(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
    if (done) break;
  }
  buffer += decoder.decode();
  if (buffer.trim()) flush(buffer);
}

function listBlock(title, items, className, toText = String) {
  if (!Array.isArray(items) || !items.length) return null;
  return el("div", { className }, [
    el("h4", { text: title }),
    el("ul", {}, items.map((item) => el("li", { text: toText(item) }))),
  ]);
}

/** An unsupported claim as the server sends it ({sentence, facts}): the sentence, then the facts
 * in it that no source supports. */
function claimText(claim) {
  if (!claim || typeof claim !== "object") return String(claim ?? "");
  const facts = Array.isArray(claim.facts) && claim.facts.length
    ? ` (not in your sources: ${claim.facts.join(", ")})` : "";
  return `${claim.sentence ?? ""}${facts}`;
}

function setRating(card, rating) {
  $(".rate-up", card).setAttribute("aria-pressed", String(rating === "up"));
  $(".rate-down", card).setAttribute("aria-pressed", String(rating === "down"));
  card.dataset.rating = rating || "";
}

async function copyText(textarea) {
  const text = textarea.value;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // permission refused: fall back below
  }
  textarea.focus();
  textarea.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

/** The draft's preview pane, kept in step with its text box both ways: an edit in the pane
 * rewrites the text; an edit of the text redraws the pane (the server splits it again). */
function draftPreview(draft, textarea) {
  const holder = el("div", { className: "draft-preview" });
  let numbering = draft.preview.numbering;
  const draw = (preview) => {
    numbering = preview.numbering || numbering;
    holder.replaceChildren(previewPane(preview, { owner: (state.status && state.status.owner) || "",
      text: textarea.value, onEdit: (text) => { textarea.value = text; } }));
  };
  draw(draft.preview);
  let timer = null;
  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        draw(await api("/api/preview", { method: "POST", json: {
          text: textarea.value, platform: draft.preview.platform, numbering } }));
      } catch (error) {
        say(error.message, "error");
      }
    }, PREVIEW_DEBOUNCE_MS);
  });
  return holder;
}

function draftCard(draft, position, ranked = false) {
  const number = position + 1;
  const textareaId = `draft-${number}-text`;
  const textarea = el("textarea", { id: textareaId, rows: 8, value: draft.text ?? "" });
  const preview = draft.preview ? draftPreview(draft, textarea) : null;
  const feedback = el("p", { className: "draft-feedback", attrs: { "aria-live": "polite" } });

  const score = draft.voice_score === null || draft.voice_score === undefined
    ? "Voice match: no voice model yet"
    : `Voice match: ${percent(draft.voice_score)}`;
  const meta = [score];
  if (ranked && typeof draft.ranking_score === "number") {
    meta.unshift(position === 0 ? "Rank 1 (best first)" : `Rank ${number}`);
  }
  if (draft.completion_tokens !== undefined) meta.push(`${draft.completion_tokens} tokens`);
  if (draft.finished === false) meta.push("stopped at the token limit");

  let duplicate = null;
  if (draft.near_duplicate_of) {
    const dup = draft.near_duplicate_of;
    // The flag links to the post: its URL, else its entry in "What you already said".
    const reveal = el("button", { type: "button", className: "link-button duplicate-of",
      text: dup.label || "your past post" });
    reveal.addEventListener("click", () => pastPosts && pastPosts.reveal(dup));
    duplicate = el("p", { className: "warning" }, [
      "Very close to something you already published: ",
      safeHref(dup.url) ? sourceLabel(dup.label, dup.url) : reveal,
      dup.similarity !== undefined && dup.similarity !== null ? ` (${percent(dup.similarity)} similar)` : "",
    ]);
  }

  const icon = (text) => el("span", { text, attrs: { "aria-hidden": "true" } });
  const up = el("button", { type: "button", className: "rate-up", attrs: { "aria-pressed": "false" } },
    [icon("👍"), " Good draft"]);
  const down = el("button", { type: "button", className: "rate-down", attrs: { "aria-pressed": "false" } },
    [icon("👎"), " Bad draft"]);
  const copy = el("button", { type: "button", className: "copy", text: "Copy" });
  const save = el("button", { type: "button", className: "save-edit", text: "Save edit" });

  const card = el("article", { className: "draft panel", attrs: {
    "data-generation-id": draft.generation_id, "aria-labelledby": `${textareaId}-label` } }, [
    el("label", { text: `Draft ${number}`, htmlFor: textareaId, id: `${textareaId}-label`,
      className: "draft-label" }),
    el("div", { className: preview ? "draft-body with-preview" : "draft-body" }, [textarea, preview]),
    el("p", { className: "draft-meta", text: meta.join(" · ") }),
    duplicate,
    listBlock("Clichés", draft.cliches, "cliches"),
    listBlock("Check these claims", draft.unsupported_claims, "claims", claimText),
    listBlock("Notes", draft.notes, "notes"),
    el("div", { className: "row actions" }, [copy, save, up, down]),
    feedback,
  ]);

  const sendFeedback = async (fields, done) => {
    if (!draft.generation_id) {
      feedback.textContent = "This draft was not recorded, so feedback cannot be saved.";
      return;
    }
    try {
      const body = await api(`/api/generations/${encodeURIComponent(draft.generation_id)}/feedback`,
        { method: "POST", json: fields });
      const generation = (body && body.generation) || {};
      if ("rating" in fields) setRating(card, generation.rating ?? fields.rating);
      feedback.textContent = done;
    } catch (error) {
      feedback.textContent = error.message;
      say(error.message, "error");
    }
  };

  copy.addEventListener("click", async () => {
    feedback.textContent = (await copyText(textarea)) ? "Copied." : "Copy failed: select the text and copy it.";
  });
  save.addEventListener("click", async () => {
    setBusy(save, true, "Saving…");
    await sendFeedback({ edited_text: textarea.value }, "Edit saved.");
    setBusy(save, false);
  });
  up.addEventListener("click", () => {
    const next = card.dataset.rating === "up" ? null : "up";
    sendFeedback({ rating: next }, next ? "Marked as a good draft." : "Rating removed.");
  });
  down.addEventListener("click", () => {
    const next = card.dataset.rating === "down" ? null : "down";
    sendFeedback({ rating: next }, next ? "Marked as a bad draft." : "Rating removed.");
  });
  setRating(card, null);
  return card;
}

function showDrafts(payload) {
  const drafts = Array.isArray(payload.drafts) ? payload.drafts : [];
  $("#drafts").replaceChildren(...drafts.map((draft, i) => draftCard(draft, i, payload.ranked === true)));
  const sources = Array.isArray(payload.sources) ? payload.sources : [];
  $("#drew-on-list").replaceChildren(...sources.map((source) => el("li", {}, [
    sourceLabel(source.label, source.url),
    el("span", { className: "muted", text: ` — ${[source.platform, source.kind].filter(Boolean).join(" ")}` }),
  ])));
  $("#drew-on").hidden = sources.length === 0;
}

/** The compose form's "More options", as /api/write fields. */
function writeOptions() {
  const asOf = $("#as-of").value.trim();
  return {
    like_my_best: $("#like-my-best").checked,
    include_private: $("#include-private").checked,
    ...(asOf ? { as_of: asOf } : {}),
  };
}

async function write(event) {
  event.preventDefault();
  const button = $("#write");
  const idea = $("#idea").value.trim();
  const n = Math.max(1, Math.min(8, Number.parseInt($("#n").value, 10) || 1));
  if (!idea) {
    say("Write an idea first.", "error");
    $("#idea").focus();
    return;
  }
  setBusy(button, true, "Writing…");
  const stream = $("#stream");
  stream.textContent = "";
  $("#stream-title").textContent = "Writing…";
  $("#stream-status").hidden = true;
  $("#stream-box").hidden = n !== 1;
  $("#drafts").replaceChildren();
  $("#drew-on").hidden = true;
  let gotDrafts = false;
  try {
    const response = await rawFetch("/api/write", {
      method: "POST",
      json: { idea, platform: $("#platform").value, n, stream: true, ...writeOptions() },
    });
    await readEvents(response, (name, data) => {
      if (name === "voice") {
        showVoiceFit(data);
      } else if (name === "notice") {
        say(data.detail || "", "error");
      } else if (name === "start") {
        $("#stream-title").textContent = n === 1 ? "Writing…" : `Writing ${n} drafts…`;
        $("#stream-status").hidden = true;
        $("#stream-box").hidden = n !== 1;
      } else if (name === "token") {
        stream.append(document.createTextNode(data.text ?? ""));
      } else if (name === "drafts") {
        gotDrafts = true;
        $("#stream-box").hidden = true;
        showDrafts(data);
        const count = (data.drafts || []).length;
        const ready = count === 1 ? "Your draft is ready." : `${count} drafts are ready.`;
        say([ready, ...(data.notices || [])].join(" "));
      } else if (name === "error") {
        say(data.detail || "Writing failed.", "error");
      }
    });
    if (!gotDrafts) $("#stream-box").hidden = !stream.textContent;
  } catch (error) {
    say(error.message, "error");
    $("#stream-box").hidden = true;
  } finally {
    setBusy(button, false);
  }
}

/** A write with 2+ drafts and no voice model fits one first (the server's "voice" job): its
 * progress in the writing box, until the drafts start. */
function showVoiceFit(job) {
  $("#stream-box").hidden = false;
  $("#stream-title").textContent = "Fitting your voice model to rank the drafts (once)…";
  const line = $("#stream-status");
  line.hidden = false;
  line.dataset.status = job.status || "";
  const progress = $("#stream-progress");
  if (job.total) {
    progress.max = job.total;
    progress.value = Math.min(job.done ?? 0, job.total);
  } else {
    progress.removeAttribute("value");
  }
  const what = job.status === "queued" ? "waiting for the job ahead of it"
    : job.status === "succeeded" ? "fitted; now writing the drafts"
      : job.status === "failed" ? `failed: ${job.error || ""}`
        : `${job.stage || "starting"}${job.total ? ` (${job.done ?? 0} of ${job.total})` : ""}`;
  $("#stream-status-text").textContent = `Voice model: ${what}`;
  if (job.status === "succeeded" && state.status) state.status.voice_model = true;
  updateVoiceHint();
}

// ---- jobs ---------------------------------------------------------------------------------

const JOB_NAMES = { ingest: "Import", index: "Indexing", dataset: "Dataset build", train: "Training",
  voice: "Voice model" };
const JOB_DONE = new Set(["succeeded", "failed", "interrupted"]);

function resultSummary(result) {
  if (!result || typeof result !== "object") return "";
  const parts = [];
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
      parts.push(`${key.replace(/_/g, " ")}: ${value}`);
    }
    if (parts.length >= 6) break;
  }
  return parts.join(", ");
}

function renderJob(container, job) {
  const name = JOB_NAMES[job.kind] || job.kind;
  const progress = el("progress", { max: 1, attrs: { "aria-label": `${name} progress` } });
  if (job.total) {
    progress.max = job.total;
    progress.value = Math.min(job.done ?? 0, job.total);
  } else if (job.status === "succeeded") {
    progress.value = 1;
  } else {
    progress.removeAttribute("value"); // indeterminate
  }
  const heading = {
    queued: `${name}: waiting to start`,
    running: `${name}: ${job.stage || "running"}`,
    succeeded: `${name} finished`,
    failed: `${name} failed`,
    interrupted: `${name} interrupted (the server stopped)`,
  }[job.status] || `${name}: ${job.status}`;
  const count = job.total ? `${job.done ?? 0} of ${job.total}` : "";
  const lines = [
    el("p", { className: "job-title", text: heading }),
    job.description ? el("p", { className: "muted job-description", text: job.description }) : null,
    job.status === "failed" || job.status === "interrupted" ? null : progress,
    count && job.status === "running" ? el("p", { className: "muted", text: count }) : null,
    job.message ? el("p", { className: "job-message", text: job.message }) : null,
    job.error ? el("p", { className: "message-error", text: job.error }) : null,
    job.status === "succeeded" && resultSummary(job.result)
      ? el("p", { className: "muted", text: resultSummary(job.result) }) : null,
  ];
  const block = el("div", { className: `job job-${job.status}`,
    attrs: { "data-job-id": job.id, "data-status": job.status, "data-kind": job.kind } }, lines);
  const existing = container.querySelector(`[data-job-id="${CSS.escape(String(job.id))}"]`);
  if (existing) existing.replaceWith(block);
  else container.prepend(block);
  container.hidden = false;
}

const JOB_CONTAINERS = { ingest: "#job-status", index: "#job-status",
  dataset: "#training-job-status", train: "#training-job-status", voice: "#training-job-status" };

const JOB_FOLLOW_UPS = {
  ingest: () => Promise.all([loadSources(), loadStatus()]),
  index: () => loadStatus(),
  dataset: () => loadDatasets(),
  train: () => Promise.all([loadModels(), loadStatus()]),
  voice: () => loadStatus(),
};

/** Shows a job and polls it every second until it has finished. */
function trackJob(job) {
  if (!job || !job.id || state.jobs.has(job.id)) return;
  const container = $(JOB_CONTAINERS[job.kind] || "#job-status");
  state.jobs.set(job.id, true);
  renderJob(container, job);
  const poll = async () => {
    let current;
    try {
      current = await api(`/api/jobs/${encodeURIComponent(job.id)}`);
    } catch (error) {
      say(error.message, "error");
      setTimeout(poll, JOB_POLL_MS * 3);
      return;
    }
    renderJob(container, current);
    if (!JOB_DONE.has(current.status)) {
      setTimeout(poll, JOB_POLL_MS);
      return;
    }
    state.jobs.delete(job.id);
    const name = JOB_NAMES[current.kind] || current.kind;
    if (current.status === "succeeded") say(`${name} finished.`);
    else say(`${name} failed: ${current.error || current.message || "see the job"}`, "error");
    await guarded(JOB_FOLLOW_UPS[current.kind] || (() => {}));
  };
  if (JOB_DONE.has(job.status)) {
    state.jobs.delete(job.id);
  } else {
    setTimeout(poll, JOB_POLL_MS);
  }
}

async function resumeJobs() {
  const body = await api("/api/jobs");
  for (const job of (body && body.jobs) || []) {
    if (!JOB_DONE.has(job.status)) trackJob(job);
  }
}

// ---- sources ------------------------------------------------------------------------------

async function loadSources() {
  const body = await api("/api/sources");
  const sources = (body && body.sources) || [];
  $("#sources-body").replaceChildren(...sources.map((source) => {
    const kinds = Object.entries(source.by_kind || {}).map(([kind, count]) => `${count} ${kind}`).join(", ");
    const forget = el("button", { type: "button", className: "forget danger", text: "Forget",
      attrs: { "aria-label": `Forget ${source.name || source.id}` } });
    forget.addEventListener("click", () => forgetSource(source, forget));
    return el("tr", { attrs: { "data-source-id": source.id } }, [
      el("th", { scope: "row", text: source.name || String(source.id) }),
      el("td", { text: source.format ?? "" }),
      el("td", { text: source.owner ?? "" }),
      el("td", { text: source.documents ?? 0 }),
      el("td", { text: kinds }),
      el("td", { text: formatDate(source.imported_at) }),
      el("td", {}, [forget]),
    ]);
  }));
  $("#sources-table").hidden = sources.length === 0;
  $("#sources-empty").hidden = sources.length !== 0;
}

async function forgetSource(source, button) {
  const name = source.name || source.id;
  const ok = window.confirm(`Forget “${name}”? Its ${source.documents ?? ""} documents, their vectors `
    + "and the drafts and datasets built from them are deleted.");
  if (!ok) return;
  setBusy(button, true, "Forgetting…");
  try {
    const result = await api(`/api/sources/${encodeURIComponent(source.id)}`, { method: "DELETE" });
    say(`Forgot “${name}”: ${result.documents ?? 0} documents removed.`);
    await Promise.all([loadSources(), loadStatus()]);
  } catch (error) {
    say(error.message, "error");
    setBusy(button, false);
  }
}

async function upload(event) {
  event.preventDefault();
  const input = $("#upload-files");
  const files = Array.from(input.files || []);
  if (!files.length) {
    say("Choose one or more export files first.", "error");
    input.focus();
    return;
  }
  const cap = state.status && state.status.max_upload_mb;
  const size = files.reduce((sum, file) => sum + file.size, 0);
  if (cap && size > cap * 1024 * 1024) {
    say(`These files are ${(size / 1048576).toFixed(1)} MB; the server takes at most ${cap} MB.`, "error");
    return;
  }
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  const me = $("#upload-me").value.trim();
  if (me) form.append("me", me);
  // Chats' local times (WhatsApp, Telegram) are read in the browser's zone, not the server's.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) form.append("timezone", zone);
  form.append("index", $("#upload-index").checked ? "true" : "false");
  const job = await startJob($("#upload-submit"), "/api/ingest", { body: form }, "Uploading…");
  if (job) {
    say(`Importing ${files.map((f) => f.name).join(", ")}…`);
    input.value = "";
  }
}

async function search(event) {
  event.preventDefault();
  const q = $("#search-q").value.trim();
  if (!q) return;
  const list = $("#search-results");
  try {
    const body = await api(`/api/search?${new URLSearchParams({ q, k: "5" })}`);
    const hits = (body && body.hits) || [];
    list.replaceChildren(...hits.map((hit) => el("li", { className: "hit" }, [
      el("p", { className: "hit-head" }, [
        sourceLabel(hit.label, hit.url),
        el("span", { className: "muted", text: ` — ${[hit.platform, hit.kind, formatDate(hit.created_at),
          typeof hit.score === "number" ? `score ${hit.score.toFixed(3)}` : ""].filter(Boolean).join(" · ")}` }),
      ]),
      el("p", { className: "hit-text", text: hit.text ?? "" }),
    ])));
    say(hits.length ? `${hits.length} result${hits.length === 1 ? "" : "s"}.` : "Nothing found.");
  } catch (error) {
    say(error.message, "error");
  }
}

// ---- training -----------------------------------------------------------------------------

async function loadDatasets() {
  const body = await api("/api/datasets");
  const builds = (body && body.builds) || [];
  $("#datasets-body").replaceChildren(...builds.map((build) => el("tr", {}, [
    el("th", { scope: "row", text: build.id }),
    el("td", { text: formatDate(build.created) }),
    el("td", { text: `${build.sft_train ?? 0} / ${build.sft_test ?? 0}` }),
    el("td", { text: `${build.preference_train ?? 0} / ${build.preference_test ?? 0}` }),
  ])));
  $("#datasets-table").hidden = builds.length === 0;
  $("#datasets-empty").hidden = builds.length !== 0;
}

function metricsText(metrics) {
  return Object.entries(metrics || {})
    .filter(([, v]) => typeof v === "number" || typeof v === "string")
    .slice(0, 4)
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "number" ? Number(v.toPrecision(4)) : v}`)
    .join(", ");
}

async function loadModels() {
  const body = await api("/api/models");
  const runs = (body && body.runs) || [];
  $("#models-body").replaceChildren(...runs.map((run) => {
    const active = run.is_active || run.id === body.active;
    const usable = run.status === "finished";
    let cell;
    if (active) {
      cell = el("strong", { text: "In use" });
    } else if (usable) {
      cell = el("button", { type: "button", className: "use-model", text: "Use",
        attrs: { "aria-label": `Use ${run.id}` } });
      cell.addEventListener("click", () => useModel(run.id, cell));
    } else {
      cell = el("span", { className: "muted", text: "not usable" });
    }
    return el("tr", { className: active ? "active" : "", attrs: { "data-run-id": run.id } }, [
      el("th", { scope: "row", text: run.id }),
      el("td", { text: run.kind ?? "" }),
      el("td", { text: run.status ?? "" }),
      el("td", { text: formatDate(run.started_at) }),
      el("td", { text: metricsText(run.metrics) }),
      el("td", {}, [cell]),
    ]);
  }));
  $("#models-table").hidden = runs.length === 0;
  $("#models-empty").hidden = runs.length !== 0;
  const base = $("#use-base");
  const baseActive = !body || !body.active || body.active === "base";
  base.disabled = baseActive;
  base.textContent = baseActive ? "The base model is in use" : "Use the base model";
}

async function useModel(id, button) {
  if (button) setBusy(button, true);
  try {
    await api("/api/models/use", { method: "POST", json: { id } });
    say(id === "base" ? "Drafts now come from the base model." : `Drafts now come from ${id}.`);
    await Promise.all([loadModels(), loadStatus()]);
  } catch (error) {
    say(error.message, "error");
    if (button) setBusy(button, false);
  }
}

/** POSTs a job request and follows the job; `button` (if any) is busy until the job is queued. */
async function startJob(button, path, options, busyText) {
  if (button) setBusy(button, true, busyText);
  try {
    const body = await api(path, { method: "POST", ...options });
    trackJob(body.job);
    return body.job;
  } catch (error) {
    say(error.message, "error");
    return null;
  } finally {
    if (button) setBusy(button, false);
  }
}

async function buildDataset(event) {
  event.preventDefault();
  await startJob($("#build-dataset"), "/api/datasets", { json: {
    instructions: $("#dataset-instructions").value,
    preferences: $("#dataset-preferences").checked,
    max_pairs: Number.parseInt($("#dataset-max-pairs").value, 10) || 50,
  } });
}

async function train(event) {
  event.preventDefault();
  const kind = event.submitter && event.submitter.value === "dpo" ? "dpo" : "sft";
  const steps = Number.parseInt($("#train-steps").value, 10);
  if (!(steps > 0)) {
    say("Steps must be a positive number.", "error");
    return;
  }
  await startJob(null, "/api/train", { json: { kind, steps } });
}

async function fitVoice(event) {
  await startJob(event.currentTarget, "/api/voice", {}, "Starting…");
}

// ---- history ------------------------------------------------------------------------------

function historyItem(gen) {
  const rating = gen.rating === "up" ? "👍 good" : gen.rating === "down" ? "👎 bad" : "not rated";
  const edited = gen.edited_text !== null && gen.edited_text !== undefined;
  const summary = el("summary", {}, [
    el("span", { className: "history-idea", text: gen.idea || "(no idea recorded)" }),
    el("span", { className: "muted history-meta", text: [formatDate(gen.created_at), gen.platform,
      gen.model, rating, edited ? "edited" : ""].filter(Boolean).join(" · ") }),
    el("span", { className: "history-snippet", text: snippet(edited ? gen.edited_text : gen.output) }),
  ]);
  const body = el("div", { className: "history-body" }, [
    el("h3", { text: "Draft" }),
    el("p", { className: "history-output", text: gen.output ?? "" }),
    edited ? el("h3", { text: "Your edit" }) : null,
    edited ? el("p", { className: "history-edit", text: gen.edited_text }) : null,
    el("p", { className: "muted", text: [
      gen.endpoint, gen.voice_score !== null && gen.voice_score !== undefined
        ? `voice match ${percent(gen.voice_score)}` : "",
      gen.completion_tokens !== undefined && gen.completion_tokens !== null
        ? `${gen.completion_tokens} tokens` : "",
      typeof gen.latency_s === "number" ? `${gen.latency_s.toFixed(1)} s` : "",
    ].filter(Boolean).join(" · ") }),
  ]);
  return el("li", { className: "history-item", attrs: { "data-generation-id": gen.id,
    "data-rating": gen.rating || "", "data-edited": String(edited) } }, [el("details", {}, [summary, body])]);
}

async function loadHistory() {
  const body = await api("/api/history?limit=50");
  const generations = (body && body.generations) || [];
  $("#history-list").replaceChildren(...generations.map(historyItem));
  $("#history-empty").hidden = generations.length !== 0;
}

// ---- start --------------------------------------------------------------------------------

async function refreshAll() {
  await guarded(loadStatus);
  await guarded(LOADERS[currentView()]);
  await guarded(resumeJobs);
}

function start() {
  setupToken();
  $("#compose-form").addEventListener("submit", write);
  $("#include-private").addEventListener("change", (event) => {
    $("#private-warning").hidden = !event.target.checked;
  });
  $("#upload-form").addEventListener("submit", upload);
  $("#search-form").addEventListener("submit", search);
  $("#dataset-form").addEventListener("submit", buildDataset);
  $("#train-form").addEventListener("submit", train);
  $("#fit-voice").addEventListener("click", fitVoice);
  $("#voice-hint-fit").addEventListener("click", fitVoice);
  $("#n").addEventListener("input", updateVoiceHint);
  $("#use-base").addEventListener("click", (event) => useModel("base", event.currentTarget));
  $("#history-refresh").addEventListener("click", () => guarded(loadHistory));
  // Ctrl/Cmd+Enter in the idea box writes, as in a chat box.
  $("#idea").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("#compose-form").requestSubmit();
  });
  pastPosts = setupPastPosts({ api, el, safeHref }, $("#idea"), $("#past-posts"));
  blindTest = setupBlindTest({ api, el, say, safeHref,
    platforms: async () => ((state.status || await loadStatus()).platforms || []) },
  $("#blind-test"));
  guarded(loadStatus).then(() => guarded(resumeJobs));
  setupNavigation();
  document.body.dataset.ready = "true";
}

start();
