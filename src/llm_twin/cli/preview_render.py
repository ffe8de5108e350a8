"""`twin write --preview`: each draft drawn as its platform will show it (inference.preview).

X: one card per post with its `n/280`; LinkedIn: the text above the "…see more" fold, the rest
dimmed below it; Instagram: the caption with its length and hashtag count; articles: title,
subtitle and body; a blog post: its front matter, title and body. Counts over a limit are red.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from llm_twin.inference.preview import Preview, PreviewPart


def render_preview(preview: Preview, *, title: str) -> RenderableType:
    """The draft's preview as one Rich renderable: cards inside a panel titled `title`."""
    body: list[RenderableType] = []
    layout = preview.layout
    if layout == "thread":
        body += [_post_card(part) for part in preview.parts]
    elif layout == "fold":
        body.append(_fold_card(preview))
    elif layout in ("article", "markdown"):
        body.append(_article_card(preview))
    else:
        body.append(Panel(Text(preview.parts[0].text),
                          subtitle=_counts(preview, preview.parts[0]), subtitle_align="right",
                          border_style=_border(preview.over_limit), width=72))
    for problem in preview.over_limit:
        body.append(Text(f"over the limit: {problem}", style="bold red"))
    return Panel(Group(*body), title=title, title_align="left", expand=False)


def print_previews(console: Console, previews: list[tuple[str, Preview]]) -> None:
    for title, preview in previews:
        console.print(render_preview(preview, title=title), highlight=False)


def _post_card(part: PreviewPart) -> Panel:
    count = Text(f"{part.chars}/{part.limit}" if part.limit else str(part.chars),
                 style="bold red" if part.over else "dim")
    return Panel(Text(part.text), title=Text(f"post {part.label}", style="bold"),
                 title_align="left", subtitle=count, subtitle_align="right",
                 border_style="red" if part.over else "blue", width=62)


def _fold_card(preview: Preview) -> Panel:
    visible = preview.parts[0]
    lines: list[RenderableType] = [Text(visible.text)]
    if len(preview.parts) > 1:
        lines.append(Text(preview.rules.get("see_more") or "…see more", style="bold cyan"))
        lines.append(Text(preview.parts[1].text, style="dim"))
    return Panel(Group(*lines), subtitle=_counts(preview, visible), subtitle_align="right",
                 border_style=_border(preview.over_limit), width=72)


def _article_card(preview: Preview) -> Panel:
    lines: list[RenderableType] = []
    for part in preview.parts:
        style = {"title": "bold", "subtitle": "italic", "front_matter": "dim"}.get(part.role, "")
        text = Text(f"---\n{part.text}\n---" if part.role == "front_matter" else part.text,
                    style=style)
        if part.role in ("title", "subtitle") and part.limit:
            text.append(f"  {part.chars}/{part.limit}", style="bold red" if part.over else "dim")
        lines.append(text)
        lines.append(Text(""))
    return Panel(Group(*lines[:-1]), border_style=_border(preview.over_limit), width=80)


def _counts(preview: Preview, part: PreviewPart) -> Text:
    limit = part.limit if part.limit is not None else preview.max_chars
    chars = part.chars if part.limit is not None else preview.chars
    over = limit is not None and chars > limit
    text = Text(f"{chars:,}/{limit:,} characters" if limit else f"{chars:,} characters",
                style="bold red" if over else "dim")
    if preview.max_hashtags is not None:
        text.append(f" · {preview.hashtags}/{preview.max_hashtags} hashtags",
                    style="bold red" if preview.hashtags_over else "dim")
    return text


def _border(problems: list[str]) -> str:
    return "red" if problems else "blue"
