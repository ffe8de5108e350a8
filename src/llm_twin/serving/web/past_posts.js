// "What you already said": beside the idea box, as you type, your own past posts on the idea's
// topic (GET /api/past: hybrid search, public posts only), newest first with date, platform, first
// line and a link, so you can reuse an angle or avoid repeating yourself.
// Security rule as in app.js: text only ever reaches the page as text (el(), textContent), links
// only for http(s) URLs (safeHref).

export const PAST_DEBOUNCE_MS = 400;
export const PAST_MIN_WORDS = 3; // app/blind_test.py's MIN_PAST_WORDS: shorter ideas get nothing

export function wordCount(text) {
  return String(text ?? "").trim().split(/\s+/).filter(Boolean).length;
}

function dateOnly(value) {
  if (!value) return "undated";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/**
 * Wires the panel to the idea box. `deps`: app.js's helpers {api, el, safeHref}; `idea`: the
 * textarea; `box`: the (empty, hidden) container. Returns {refresh, reveal}: reveal(post) scrolls
 * to and highlights a past post ({document_id, label, url}), adding it when the list lacks it.
 */
export function setupPastPosts({ api, el, safeHref }, idea, box) {
  const heading = el("h2", { id: "past-posts-title", text: "What you already said" });
  const note = el("p", { className: "muted past-note" });
  const list = el("ol", { id: "past-posts-list", className: "past-list",
    attrs: { "aria-labelledby": "past-posts-title" } });
  box.replaceChildren(heading, note, list);
  box.setAttribute("aria-labelledby", "past-posts-title");
  let timer = null;
  let asked = 0; // only the newest answer is shown while the user keeps typing
  let shownFor = "";

  const entry = (post, extra = "") => {
    const href = safeHref(post.url);
    const first = post.first_line || post.label || "(untitled)";
    const line = href
      ? el("a", { className: "past-first-line", text: first, href, rel: "noopener noreferrer",
        target: "_blank" })
      : el("span", { className: "past-first-line", text: first });
    const meta = [dateOnly(post.created_at), post.platform].filter(Boolean).join(" · ");
    return el("li", { className: "past-post", id: `past-post-${post.document_id}`, tabIndex: -1,
      attrs: { "data-document-id": post.document_id } }, [
      el("span", { className: "past-meta muted", text: `${meta}${extra}` }), " ", line,
    ]);
  };

  const show = (text, posts) => {
    shownFor = text;
    list.replaceChildren(...posts.map((post) => entry(post)));
    note.textContent = posts.length
      ? "Your own posts on this topic, newest first: reuse an angle or avoid repeating it."
      : "Nothing of yours on this topic yet.";
    box.hidden = false;
  };

  const refresh = async () => {
    const text = idea.value.trim();
    if (wordCount(text) < PAST_MIN_WORDS) {
      asked += 1;
      shownFor = "";
      list.replaceChildren();
      box.hidden = true;
      return;
    }
    if (text === shownFor) return;
    const mine = ++asked;
    let body;
    try {
      body = await api(`/api/past?${new URLSearchParams({ idea: text, k: "5" })}`);
    } catch (error) {
      if (mine !== asked) return;
      shownFor = "";
      list.replaceChildren();
      box.hidden = false;
      note.textContent = `Your past posts could not be searched: ${error.message}`;
      return;
    }
    if (mine !== asked) return;
    if (body && body.indexed === false) { // nothing indexed yet: nothing to show
      shownFor = "";
      box.hidden = true;
      return;
    }
    show(text, (body && Array.isArray(body.posts)) ? body.posts : []);
  };

  idea.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, PAST_DEBOUNCE_MS);
  });

  const reveal = (post) => {
    let item = list.querySelector(`[data-document-id="${CSS.escape(String(post.document_id))}"]`);
    if (!item) {
      item = entry({ document_id: post.document_id, label: post.label, url: post.url,
        first_line: post.label, platform: post.platform, created_at: post.created_at },
      " · the draft repeats this");
      if (box.hidden) note.textContent = "The post a draft repeats:";
      list.prepend(item);
      box.hidden = false;
    }
    for (const other of list.querySelectorAll(".past-post.highlight")) other.classList.remove("highlight");
    item.classList.add("highlight");
    item.scrollIntoView({ block: "nearest" });
    item.focus();
  };

  return { refresh, reveal };
}
