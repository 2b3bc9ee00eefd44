"""A minimal STAND-IN for flyte-sdk's ``flyte`` package, for FlyteSharp's tests only.

The real package cannot be installed on the test machines (no Python package index), so this file reproduces
just the shape FlyteSharp relies on: ``flyte.TaskEnvironment(...).task`` is a decorator that returns a task
object (flyte-sdk's ``AsyncFunctionTaskTemplate``) keeping the decorated function in ``.func`` and forwarding
``__call__`` to it outside a Flyte context. In real images ``flyte`` comes from the uv project's dependencies.
"""


class Resources:
    def __init__(self, cpu=None, memory=None):
        self.cpu = cpu
        self.memory = memory


class AsyncFunctionTaskTemplate:
    """Mimics flyte-sdk: the decorated function lives in .func; the object itself is not a function."""

    def __init__(self, func, env):
        self.func = func
        self.env = env
        self.name = f"{env.name}.{func.__name__}"

    def __call__(self, *args, **kwargs):
        self.env.calls.append(self.name)
        return self.func(*args, **kwargs)


class TaskEnvironment:
    def __init__(self, name, resources=None, image=None, **_):
        self.name = name
        self.resources = resources
        self.image = image
        self.calls = []

    def task(self, _func=None, **_options):
        def wrap(func):
            return AsyncFunctionTaskTemplate(func, self)

        return wrap(_func) if _func is not None else wrap
