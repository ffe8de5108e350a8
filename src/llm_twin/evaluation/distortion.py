"""Text distortion for topic-free authorship features (after Stamatatos, "Authorship attribution
using text distortion", 2017): every word that is not a function word is replaced by its shape,
so what is left is how a person writes (function words, punctuation, capitalisation, word and
sentence lengths, line breaks), not what they write about.

"I moved our queue to Postgres in 2019!" -> "I x our x to Xx in d!"
"""

from __future__ import annotations

import re

# Frequent English function words (articles, pronouns, auxiliaries, prepositions, conjunctions,
# common adverbs) and their contractions: a closed class, the same for every author and topic.
FUNCTION_WORDS = frozenset("""
a about above after again against all also although am an and any are aren't as at be because
been before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each either else enough even ever every few for from further had
hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself
his how how's however i i'd i'll i'm i've if in into is isn't it it's its itself just least less
let's like many may me might more most much must mustn't my myself neither never no nor not now of
off often on once one only or other otherwise ought our ours ourselves out over own perhaps quite
rather really same shan't she she'd she'll she's should shouldn't since so some such than that
that's the their theirs them themselves then there there's therefore these they they'd they'll
they're they've this those though through thus to too under until up upon us very was wasn't we
we'd we'll we're we've well were weren't what what's whatever when when's where where's whether
which while who who's whom whose why why's will with within without won't would wouldn't yet you
you'd you'll you're you've your yours yourself yourselves
""".split())
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_RUN = re.compile(r"(.)\1+")


def word_shape(word: str) -> str:
    """A word's shape with runs collapsed: "Postgres" -> "Xx", "HTTP2" -> "Xd", "2019" -> "d"."""
    shape = "".join("X" if c.isupper() else "d" if c.isdigit() else "x" for c in word)
    return _RUN.sub(r"\1", shape)


def distort(text: str) -> str:
    """The text with content words replaced by their shapes; function words, punctuation and
    whitespace (line breaks included) kept as written."""
    def replace(match: re.Match) -> str:
        word = match.group(0)
        return word if word.lower().replace("’", "'") in FUNCTION_WORDS else word_shape(word)

    return _WORD.sub(replace, text)


def distort_all(texts: list[str]) -> list[str]:
    return [distort(t) for t in texts]
