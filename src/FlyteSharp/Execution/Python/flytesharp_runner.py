"""FlyteSharp's Python task runner (standard library only).

SKELETON: the tasks-and-runs work fills this in. It is shipped inside every image FlyteSharp
builds (its bytes are part of the image tag) and used for local runs as well.
"""
