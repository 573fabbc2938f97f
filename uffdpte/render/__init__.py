"""Renderers of decoded entries: plain lines (pipes), JSON Lines, rich (terminals)."""
