"""Run the example's pipelines locally with plain Python (no FlyteSharp needed):

    cd examples/workspace-monorepo/src && python3 -m workspace_app.main

The pipelines themselves are authored in C# (dotnet/); this only checks the task functions.
"""

import asyncio

from workspace_app.tasks.etl_tasks import load_data, transform_data
from workspace_app.tasks.ml_tasks import evaluate, train


async def main() -> None:
    raw = await load_data(n=10)
    print("etl:", await transform_data(raw=raw))
    features = [1.5, 3.0, 4.5, 6.0, 7.5]
    labels = [0.0, 1.0, 2.0, 3.0, 4.0]
    model = await train(features=features, labels=labels)
    print("ml:", await evaluate(model=model, features=features))


if __name__ == "__main__":
    asyncio.run(main())
