"""Inference: retrieve what you wrote, build the prompt, generate, fit the platform."""
