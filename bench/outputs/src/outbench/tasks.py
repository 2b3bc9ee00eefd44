def tiny(n: int) -> int:
    return n + 1


def big_output(mb: int) -> list:
    """About mb MiB of JSON: a list of ~1 KiB strings."""
    chunk = "x" * 1000
    return [f"{chunk}{i:08d}" for i in range(mb * 1024 * 1024 // 1014)]


def big_log(mb: int) -> int:
    """About mb MiB printed as 100-byte lines."""
    line = "l" * 99
    n = mb * 1024 * 1024 // 100
    for _ in range(n):
        print(line)
    return n
