"""Rendering: a timeline and its clips -> PCM blocks (mixer, earcons, loudness, session prep)."""
