// "Which one did I write?": one of your held-out posts and the twin's draft for the same idea,
// side by side as A and B in a random order (POST /api/blind-test/rounds); you pick the one you
// wrote (POST /api/blind-test/rounds/{id}/pick) and see whether the twin fooled you and the
// model's running score with its 95 % interval (GET /api/blind-test/scores).
// Security rule as in app.js: text only ever reaches the page as text (el(), textContent), links
// only for http(s) URLs (safeHref).

function pct(value) {
  return `${Math.round(Number(value) * 100)}%`;
}

/** "base: the twin fooled you in 1 of 2 rounds (50%, 95 % interval 9%–91%)" */
export function scoreText(score) {
  if (!score || !score.rounds) return `${score ? score.model : "This model"}: no round answered yet.`;
  return `${score.model}: the twin fooled you in ${score.fooled} of ${score.rounds} ` +
    `round${score.rounds === 1 ? "" : "s"} (${pct(score.share)}, 95 % interval ` +
    `${pct(score.low)}–${pct(score.high)}). 50% means you cannot tell.`;
}

/**
 * Builds the view inside `section` (which holds its h1). `deps`: app.js's helpers {api, el, say,
 * safeHref, platforms} (platforms(): the draft platforms the server lists). Returns {load}: the
 * view's loader (refreshes the platform list and the scores).
 */
export function setupBlindTest({ api, el, say, safeHref, platforms }, section) {
  const platform = el("select", { id: "blind-platform" });
  const startButton = el("button", { type: "submit", id: "blind-start", text: "New round" });
  const form = el("form", { id: "blind-form", className: "panel" }, [
    el("p", { className: "hint", text: "One of your own posts and the twin's draft for the same " +
      "idea, same platform and length, in a random order. Pick the one you wrote. Each round " +
      "is stored: your score per model, and a preference pair (your post over the draft) for " +
      "the next dataset build." }),
    el("div", { className: "field" }, [
      // not "Platform": the compose form's select is found by that label
      el("label", { text: "Posts from", htmlFor: "blind-platform" }), platform]),
    startButton,
  ]);
  const idea = el("p", { id: "blind-idea", className: "blind-idea" });
  const sides = ["a", "b"].map((letter) => {
    const upper = letter.toUpperCase();
    const body = el("p", { className: "blind-body", id: `blind-${letter}-text` });
    const pick = el("button", { type: "button", className: "blind-pick", id: `blind-pick-${letter}`,
      text: `I wrote ${upper}`, attrs: { "data-pick": letter } });
    const card = el("article", { className: "blind-text", id: `blind-${letter}`,
      attrs: { "aria-labelledby": `blind-${letter}-title` } }, [
      el("h2", { id: `blind-${letter}-title`, text: upper }), body, pick]);
    return { letter, body, pick, card };
  });
  const outcome = el("div", { id: "blind-outcome", className: "blind-outcome",
    attrs: { "aria-live": "polite" } });
  const round = el("div", { id: "blind-round", className: "panel", hidden: true }, [
    idea, el("div", { className: "blind-pair" }, sides.map((side) => side.card)), outcome]);
  const scores = el("div", { id: "blind-scores", className: "panel", attrs: { "aria-live": "polite" } });
  section.append(form, round, scores);

  let current = null; // the round on screen, until it is answered

  const showScores = (list) => {
    const rows = Array.isArray(list) ? list : [];
    scores.replaceChildren(el("h2", { text: "Your scores" }), rows.length
      ? el("ul", { className: "plain-list" }, rows.map((score) => el("li", {
        className: "blind-score", text: scoreText(score), attrs: { "data-model": score.model } })))
      : el("p", { className: "muted", text: "No round answered yet." }));
  };

  const load = async () => {
    const names = await platforms();
    const previous = platform.value;
    platform.replaceChildren(el("option", { text: "any platform", value: "" }),
      ...names.map((name) => el("option", { text: name, value: name })));
    if (names.includes(previous)) platform.value = previous;
    const body = await api("/api/blind-test/scores");
    showScores(body && body.scores);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    startButton.disabled = true;
    startButton.textContent = "The twin is writing…";
    try {
      const game = await api("/api/blind-test/rounds", { method: "POST",
        json: platform.value ? { platform: platform.value } : {} });
      current = game;
      idea.textContent = `${game.platform} · idea: ${game.idea}`;
      for (const side of sides) {
        side.body.textContent = game[side.letter] ?? "";
        side.pick.disabled = false;
        side.card.classList.remove("blind-yours", "blind-twin");
      }
      outcome.replaceChildren();
      round.hidden = false;
      round.dataset.roundId = String(game.id);
      sides[0].pick.focus();
    } catch (error) {
      say(error.message, "error");
    } finally {
      startButton.disabled = false;
      startButton.textContent = "New round";
    }
  });

  for (const side of sides) {
    side.pick.addEventListener("click", async () => {
      if (!current) return;
      const game = current;
      for (const s of sides) s.pick.disabled = true;
      let result;
      try {
        result = await api(`/api/blind-test/rounds/${encodeURIComponent(game.id)}/pick`,
          { method: "POST", json: { pick: side.letter } });
      } catch (error) {
        say(error.message, "error");
        for (const s of sides) s.pick.disabled = false;
        return;
      }
      current = null;
      const yours = result.twin === "a" ? "b" : "a";
      for (const s of sides) s.card.classList.add(s.letter === yours ? "blind-yours" : "blind-twin");
      const href = safeHref(result.url);
      outcome.dataset.fooled = String(result.fooled);
      outcome.replaceChildren(
        el("p", { className: result.fooled ? "blind-verdict warning" : "blind-verdict",
          text: result.fooled
            ? `The twin fooled you: you wrote ${yours.toUpperCase()}, ${result.twin.toUpperCase()} is the twin's draft.`
            : `Right: you wrote ${yours.toUpperCase()}, ${result.twin.toUpperCase()} is the twin's draft.` }),
        href ? el("p", {}, [el("a", { text: "Your post", href, rel: "noopener noreferrer",
          target: "_blank" })]) : null,
        el("p", { className: "blind-running", text: scoreText(result.score) }),
      );
      try {
        const body = await api("/api/blind-test/scores");
        showScores(body && body.scores);
      } catch (error) {
        say(error.message, "error");
      }
    });
  }

  return { load };
}
