"""Workspace member 'reports' (flat layout)."""
