"""Run the tasks locally with plain Python (no FlyteSharp needed):

    cd examples/sibling-packages && PYTHONPATH=my_app/src:my_lib/src python3 -m my_app.main
"""

import asyncio

from my_app.tasks import compute_stats, summarize


async def main() -> None:
    stats = await compute_stats(values=[1.0, 2.0, 3.0, 4.0, 5.0])
    print(await summarize(stats=stats))


if __name__ == "__main__":
    asyncio.run(main())
