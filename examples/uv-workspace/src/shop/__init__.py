"""The workspace's root package (src layout)."""
