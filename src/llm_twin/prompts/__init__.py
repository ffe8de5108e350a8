"""The prompt pieces serving and training share, so a tuned model is served what it trained on.

`wording` (system messages and requests), `budget` (a post prompt's examples and notes, and
example turns, fitted to a token budget), `chat` (chat turns as the reply prompt's context).
Both `inference` (serving) and `training_data` (samples) build their prompts from these.
"""
