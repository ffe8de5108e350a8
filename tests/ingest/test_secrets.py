"""Secret redaction: every credential format is cut, ordinary code and prose are left alone.

The fake credentials below are assembled from pieces so that this file itself does not trip
secret scanners; none of them is real.
"""

from __future__ import annotations

import pytest

from llm_twin.ingest.secrets import REDACTED, redact_secrets

AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
PRIVATE_KEY = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7Z3fake\nline2fake==\n"
               "-----END RSA PRIVATE KEY-----")


@pytest.mark.parametrize("secret", [AWS_KEY, GITHUB_TOKEN, GITHUB_PAT, SLACK_TOKEN])
def test_prefixed_tokens_are_cut_wherever_they_appear(secret: str) -> None:
    text = f"Oops, I pasted {secret} into the notes.\n"
    redacted = redact_secrets(text)
    assert secret not in redacted
    assert redacted == f"Oops, I pasted {REDACTED} into the notes.\n"


def test_private_key_block_is_cut_whole_and_text_around_it_stays() -> None:
    text = f"Before the key.\n{PRIVATE_KEY}\nAfter the key."
    assert redact_secrets(text) == "Before the key.\n[redacted private key]\nAfter the key."


def test_unterminated_private_key_is_cut_to_the_end() -> None:
    text = "head\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"
    redacted = redact_secrets(text)
    assert redacted == "head\n[redacted private key]"


@pytest.mark.parametrize("line, expected", [
    ('api_key = "sk_test_not_a_real_key_123"', f'api_key = "{REDACTED}"'),
    ("DB_PASSWORD: 'hunter2-but-longer'", f"DB_PASSWORD: '{REDACTED}'"),
    ('{"client_secret": "abc123def456"}', f'{{"client_secret": "{REDACTED}"}}'),
    ('self.auth_token = "t0k3n-value"', f'self.auth_token = "{REDACTED}"'),
    ("export SERVICE_TOKEN=abc123def", f"export SERVICE_TOKEN={REDACTED}"),
    ("postgres://app:s3cretpass@db.internal:5432/app",
     f"postgres://app:{REDACTED}@db.internal:5432/app"),
])
def test_secret_assignments_keep_their_name_and_lose_their_value(line: str, expected: str) -> None:
    assert redact_secrets(line) == expected


@pytest.mark.parametrize("line", [
    "token = get_token()",
    "password = os.environ['DB_PASSWORD']",
    "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
    "def tokenize(text): return text.split()",
    "The secret to good prose is rewriting.",
    "commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39",
])
def test_code_and_prose_without_secrets_are_unchanged(line: str) -> None:
    assert redact_secrets(line) == line


def test_dotenv_mode_cuts_every_value_and_keeps_comments_and_keys() -> None:
    text = ("# local settings\nDEBUG=true\nexport DATABASE_URL=postgres://localhost/app\n"
            'STRIPE_KEY="abc"\nEMPTY=\n')
    assert redact_secrets(text, dotenv=True) == (
        f"# local settings\nDEBUG={REDACTED}\nexport DATABASE_URL={REDACTED}\n"
        f"STRIPE_KEY={REDACTED}\nEMPTY=\n")


def test_plain_mode_leaves_harmless_assignments() -> None:
    assert redact_secrets("DEBUG=true\nWORKERS=4\n") == "DEBUG=true\nWORKERS=4\n"


def test_redaction_is_idempotent() -> None:
    once = redact_secrets(f'token = "{GITHUB_TOKEN}"\n{AWS_KEY}')
    assert redact_secrets(once) == once
