"""Serving the twin over HTTP.

`openai_api.create_openai_app(backend, model_name=...)` is an OpenAI-compatible API
(`/v1/models`, `/v1/chat/completions` with streaming) over any generation backend. FastAPI and
uvicorn are imported only by that module, so the CLI stays fast.
"""
