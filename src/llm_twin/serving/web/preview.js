// Platform previews: each draft as its platform will show it, editable in place.
//
// The model is inference/preview.py; the server sends it with every draft (`draft.preview`) and
// for an edited text (`POST /api/preview`). What is recounted here as you type uses the limits the
// server sent in `preview.rules` and the same rules as the Python module: lengths in code points
// (Python's len, Array.from here), the same hashtag pattern, the same "…see more" fold.
// Security rule as in app.js: text only ever reaches the page as text (el(), textContent).

/** Hashtags as inference/preview.py's HASHTAG counts them ("#1", "C#", "a/#b" are not). */
export const HASHTAG = /(?<![\p{L}\p{N}_&#/])#(?=[\p{L}\p{N}_]*\p{L})[\p{L}\p{N}_]+/gu;

export function countChars(text) {
  return Array.from(String(text ?? "")).length;
}

export function countHashtags(text) {
  return (String(text ?? "").match(HASHTAG) || []).length;
}

/** preview.py's fold_at: the code-point index of the "…see more" fold (the length when the whole
 * text shows): after `chars` characters or `lines` lines, back to a space inside a word. */
export function foldAt(text, chars, lines) {
  const cps = Array.from(String(text ?? ""));
  let cut = Math.min(cps.length, chars);
  let seen = 0;
  for (let i = 0; i < cps.length; i += 1) {
    if (cps[i] === "\n") {
      seen += 1;
      if (seen === lines) {
        cut = Math.min(cut, i);
        break;
      }
    }
  }
  if (cut >= cps.length) return cps.length;
  const space = (c) => c !== undefined && /\s/u.test(c);
  if (!space(cps[cut]) && !space(cps[cut - 1])) {
    let back = -1;
    for (let i = cut - 1; i >= 0; i -= 1) {
      if (cps[i] === " " || cps[i] === "\n") {
        back = i;
        break;
      }
    }
    if (back > 0) cut = back;
  }
  return cut;
}

/** The text split at the fold: [before, after] as preview.py's "visible" and "more" parts. */
export function splitAtFold(text, chars, lines) {
  const cps = Array.from(String(text ?? "").replace(/\r\n/g, "\n").trim());
  const cut = foldAt(cps.join(""), chars, lines);
  return [cps.slice(0, cut).join("").trimEnd(), cps.slice(cut).join("").trim()];
}

/** The draft's text from its preview's parts, as inference.formatting's as_text() writes it. */
export function composeText(layout, parts) {
  const get = (role) => parts.filter((p) => p.role === role).map((p) => p.text);
  if (layout === "thread") return get("post").join("\n\n");
  if (layout === "article") {
    const [title] = get("title");
    const [subtitle] = get("subtitle");
    const body = get("body").join("\n\n");
    const head = title ? `# ${title}\n\n` : "";
    return `${head}${subtitle ? `*${subtitle}*\n\n` : ""}${body}`.trim();
  }
  if (layout === "markdown") {
    const [front] = get("front_matter");
    const [title] = get("title");
    const body = get("body").join("\n\n");
    if (front !== undefined) return `---\n${front}\n---\n\n${body}`.trim();
    return `${title ? `# ${title}\n\n` : ""}${body}`.trim();
  }
  if (layout === "paper") {
    const [section] = get("section");
    return `${section ? `## ${section}\n\n` : ""}${get("body").join("\n\n")}`.trim();
  }
  return parts.map((p) => p.text).join("\n");
}

// ---- rendering ---------------------------------------------------------------------------

function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined && text !== null) n.textContent = String(text);
  return n;
}

/** An editable block of plain text (never HTML): a contenteditable the browser keeps as text. */
function editable(text, label, className) {
  const box = node("div", `preview-edit ${className || ""}`.trim(), text);
  box.contentEditable = "plaintext-only";
  box.setAttribute("role", "textbox");
  box.setAttribute("aria-multiline", "true");
  box.setAttribute("aria-label", label);
  box.spellcheck = true;
  return box;
}

/** The text a contenteditable holds, with its line breaks. */
function textOf(box) {
  return (box.innerText ?? box.textContent ?? "").replace(/\r\n/g, "\n").replace(/\n$/, "");
}

function counter(chars, limit, unit = "") {
  const over = limit !== null && limit !== undefined && chars > limit;
  const shown = limit ? `${chars.toLocaleString("en")}/${limit.toLocaleString("en")}`
    : chars.toLocaleString("en");
  const c = node("span", over ? "count over" : "count", `${shown}${unit}`);
  c.dataset.over = String(over);
  return c;
}

function setCount(slot, chars, limit, unit = "") {
  slot.replaceChildren(counter(chars, limit, unit));
}

/**
 * The preview pane of one draft. `preview` is the server's preview JSON; `owner` the name shown
 * on posts; `text` the draft's whole text (a fold's post); `onEdit(text)` gets the draft's whole
 * text after every edit in the pane.
 */
export function previewPane(preview, { owner = "", text = null, onEdit = () => {} } = {}) {
  const rules = preview.rules || {};
  const layout = preview.layout || rules.layout || "plain";
  const parts = (preview.parts || []).map((p) => ({ role: p.role, text: p.text ?? "", label: p.label || "",
    limit: p.limit ?? null }));
  const pane = node("section", `preview preview-${layout}`);
  pane.dataset.platform = preview.platform || "";
  pane.dataset.layout = layout;
  pane.setAttribute("aria-label", `${preview.label || preview.platform} preview`);
  pane.append(node("h4", "preview-title", `How it shows on ${preview.label || preview.platform}`));
  const changed = () => onEdit(composeText(layout, parts));
  const builders = { thread: threadCards, fold: foldCard, caption: captionCard, article: articleCard,
    markdown: articleCard, paper: articleCard };
  const whole = text ?? parts.map((p) => p.text).join("\n");
  (builders[layout] || plainCard)(pane, parts, preview, rules, owner, changed, whole);
  return pane;
}

function author(owner) {
  const head = node("div", "post-head");
  const initial = (owner || "?").trim().charAt(0).toUpperCase() || "?";
  head.append(node("span", "avatar", initial), node("strong", "post-author", owner || "You"));
  return head;
}

function threadCards(pane, parts, preview, rules, owner, changed) {
  const list = node("ol", "post-cards");
  parts.forEach((part, i) => {
    const card = node("li", "post-card");
    const head = author(owner);
    head.append(node("span", "muted post-number", part.label || `${i + 1}/${parts.length}`));
    const box = editable(part.text, `Post ${part.label || i + 1}`, "post-text");
    const foot = node("div", "post-foot");
    const slot = node("span", "count-slot");
    foot.append(slot);
    const update = () => {
      const chars = countChars(part.text);
      setCount(slot, chars, part.limit ?? rules.max_chars);
      card.classList.toggle("over", Boolean(part.limit ?? rules.max_chars) && chars > (part.limit ?? rules.max_chars));
    };
    box.addEventListener("input", () => {
      part.text = textOf(box);
      update();
      changed();
    });
    update();
    card.append(head, box, foot);
    list.append(card);
  });
  pane.append(list);
}

function foldCard(pane, parts, preview, rules, owner, changed, text) {
  const whole = { text };
  const card = node("div", "post-card fold-card");
  const feed = node("div", "feed");
  const visible = node("p", "fold-visible");
  const more = node("span", "see-more", rules.see_more || "…see more");
  const rest = node("p", "fold-rest");
  feed.append(visible, more, rest);
  const box = editable(whole.text, "Post", "post-text");
  const foot = node("div", "post-foot");
  const slot = node("span", "count-slot");
  const foldNote = node("span", "muted fold-note");
  foot.append(slot, foldNote);
  const update = () => {
    const [before, after] = splitAtFold(whole.text, rules.fold_chars ?? 210, rules.fold_lines ?? 3);
    visible.textContent = before;
    rest.textContent = after;
    more.hidden = !after;
    rest.hidden = !after;
    setCount(slot, countChars(whole.text), rules.max_chars, " characters");
    foldNote.textContent = after ? ` · ${countChars(before)} before the fold` : " · no fold: it all shows";
    card.classList.toggle("over", rules.max_chars != null && countChars(whole.text) > rules.max_chars);
  };
  box.addEventListener("input", () => {
    whole.text = textOf(box);
    parts.splice(0, parts.length, { role: "text", text: whole.text });
    update();
    changed();
  });
  update();
  const edit = node("div", "fold-edit");
  edit.append(node("p", "muted preview-caption", "Edit the post:"), box, foot);
  card.append(author(owner), feed);
  pane.append(card, edit);
}

function captionCard(pane, parts, preview, rules, owner, changed) {
  const part = parts[0] || { role: "caption", text: "" };
  const card = node("div", "post-card caption-card");
  const photo = node("div", "photo", "photo");
  photo.setAttribute("aria-hidden", "true");
  const box = editable(part.text, "Caption", "post-text");
  const foot = node("div", "post-foot");
  const slot = node("span", "count-slot");
  const tags = node("span", "tag-slot");
  foot.append(slot, tags);
  const update = () => {
    setCount(slot, countChars(part.text), part.limit ?? rules.max_chars, " characters");
    const n = countHashtags(part.text);
    const tagCount = counter(n, rules.max_hashtags, " hashtags");
    tagCount.classList.add("hashtag-count");
    tags.replaceChildren(" · ", tagCount);
    card.classList.toggle("over", slot.querySelector(".over") !== null || tagCount.dataset.over === "true");
  };
  box.addEventListener("input", () => {
    part.text = textOf(box);
    update();
    changed();
  });
  update();
  card.append(author(owner), photo, box, foot);
  pane.append(card);
}

function articleCard(pane, parts, preview, rules, owner, changed) {
  const card = node("article", "article-card");
  const fromFront = parts.some((p) => p.role === "front_matter");
  const labels = { front_matter: "Front matter", title: "Title", subtitle: "Subtitle", body: "Body",
    section: "Heading" };
  let titleBox = null;
  for (const part of parts) {
    const readOnly = fromFront && part.role === "title"; // the front matter's title: edited there
    const box = readOnly ? node("div", `article-${part.role}`, part.text)
      : editable(part.text, labels[part.role] || part.role, `article-${part.role}`);
    if (part.role === "title") titleBox = box;
    const row = node("div", `article-part part-${part.role}`);
    row.append(box);
    const slot = part.limit ? node("span", "count-slot") : null;
    const update = () => {
      if (slot) setCount(slot, countChars(part.text), part.limit);
    };
    if (slot) row.append(slot);
    update();
    if (!readOnly) {
      box.addEventListener("input", () => {
        part.text = textOf(box);
        if (part.role === "front_matter" && titleBox) {
          const title = /^title[ \t]*:[ \t]*(.*)$/m.exec(part.text);
          titleBox.textContent = title ? title[1].trim().replace(/^['"]|['"]$/g, "") : "";
        }
        update();
        changed();
      });
    }
    card.append(row);
  }
  if (preview.layout === "article" && !parts.some((p) => p.role === "subtitle")) {
    card.insertBefore(node("p", "muted article-no-subtitle", "(no subtitle)"), card.children[1] || null);
  }
  pane.append(card);
}

function plainCard(pane, parts, preview, rules, owner, changed) {
  const part = parts[0] || { role: "text", text: "" };
  const card = node("div", "post-card");
  const box = editable(part.text, "Text", "post-text");
  const foot = node("div", "post-foot");
  const slot = node("span", "count-slot");
  foot.append(slot);
  const update = () => setCount(slot, countChars(part.text), part.limit ?? rules.max_chars, " characters");
  box.addEventListener("input", () => {
    part.text = textOf(box);
    update();
    changed();
  });
  update();
  card.append(box, foot);
  pane.append(card);
}
