"""Redaction of credentials (keys, tokens, passwords) before any text is stored.

Repositories, notes and configs leak secrets: a private key committed by mistake, an AWS key in a
config file, a token in a `.env`. Everything an importer stores from such sources goes through
`redact_secrets` first, so a secret never reaches the warehouse, the index or a training set.

Hand-written patterns rather than Yelp's `detect-secrets`: that tool reports which *lines* look
secret (for a pre-commit verdict), not the span to cut, and its entropy plugins flag ordinary
hashes and ids in code. Redaction needs exact spans and few false positives, so each pattern here
matches a documented token format or a key-like name assigned a quoted value.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END \1PRIVATE KEY(?: BLOCK)?-----|.*\Z)",  # unterminated: cut to the end
    re.DOTALL)
# Each of these is a documented, prefixed token format: matching one is not a guess.
_TOKENS = [
    re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),          # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),                # GitHub classic tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),              # GitHub fine-grained PAT
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,250}\b"),             # Slack bot/user tokens
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),  # Slack webhook
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),                        # Google API key
    re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,247}\b"),               # Stripe live keys
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}\b"),         # OpenAI / Anthropic keys
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),  # JWT
]
_SECRET_NAME = (r"[A-Za-z0-9_.-]*(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd"
                r"|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*")
# `api_key = "..."`, `"password": "..."`, `token: '...'`: the name and quotes stay, the value goes.
_QUOTED_ASSIGNMENT = re.compile(
    rf"""(?P<name>["']?{_SECRET_NAME}["']?\s*(?::=|=>|[=:])\s*)"""
    r"""(?P<quote>["'`])(?P<value>(?:(?!(?P=quote))[^\\\n]|\\.)+)(?P=quote)""",
    re.IGNORECASE)
# Shell/CI style `export API_TOKEN=abc123`: only upper-case names, so code like `token = f()`
# is left alone, and not `$VAR` references, which name a secret without holding it.
_ENV_STYLE_ASSIGNMENT = re.compile(
    r"^(?P<name>[ \t]*(?:export[ \t]+)?[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY"
    r"|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)[A-Z0-9_]*[ \t]*[=:][ \t]*)"
    r"(?P<value>[^\s\"'`#$][^\s#]*)",
    re.MULTILINE)
_DOTENV_LINE = re.compile(
    r"^(?P<name>[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.-]*[ \t]*=[ \t]*)"
    r"(?P<value>\S.*?)[ \t]*$",
    re.MULTILINE)
_URL_PASSWORD = re.compile(r"(?P<name>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<value>[^/\s@]+)(?=@)",
                           re.IGNORECASE)


def redact_secrets(text: str, *, dotenv: bool = False) -> str:
    """`text` with credentials replaced by "[redacted]"; everything else is left as it was.

    dotenv: the text is a `.env` file, so every `KEY=value` line loses its value (`KEY=[redacted]`),
    whatever the key is called: those files exist to hold secrets.
    """
    text = _PRIVATE_KEY_BLOCK.sub("[redacted private key]", text)
    for pattern in _TOKENS:
        text = pattern.sub(REDACTED, text)
    text = _QUOTED_ASSIGNMENT.sub(_keep_name_and_quotes, text)
    text = _URL_PASSWORD.sub(_keep_name, text)
    if dotenv:
        return _DOTENV_LINE.sub(_keep_name, text)
    return _ENV_STYLE_ASSIGNMENT.sub(_keep_name, text)


def _keep_name_and_quotes(match: re.Match[str]) -> str:
    if match["value"] == REDACTED:
        return match.group()
    return f"{match['name']}{match['quote']}{REDACTED}{match['quote']}"


def _keep_name(match: re.Match[str]) -> str:
    return f"{match['name']}{REDACTED}"
