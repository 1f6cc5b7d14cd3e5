"""Surfaces: the ``casebook`` command (cli.py), the practitioners' chat (chat.py, render.py), the HTTP API
(api.py, server.py, bounds.py), the response shapes they share (shapes.py), handouts, feedback and the
LangChain retriever.

Thin: they parse input, call the ``Casebook`` facade, and show what it returns; each turns
``CasebookError`` into its own form in one place. Nothing below this layer imports it.
"""
