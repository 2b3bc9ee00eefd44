"""Workspace member 'pricing' (src layout)."""
