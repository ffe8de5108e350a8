"""LLM Twin: learns a person's writing voice from their own exports and drafts posts in that voice."""

__version__ = "0.1.0"
