using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Python;

/// <summary>
/// <c>PythonTask("pkg.mod:fn")</c> pointing at a function decorated with Flyte's <c>@env.task</c>. The real
/// <c>flyte</c> package cannot be installed here, so the bundle carries the stand-in from
/// <c>Execution/Python/Fixtures/flyte/__init__.py</c> (same shape: a task object keeping the function in <c>.func</c>).
/// </summary>
public class FlyteTaskObjectTests : IDisposable
{
    private readonly FlyteSharp.Tests.Execution.RunFixture _fixture = new();

    public FlyteTaskObjectTests()
    {
        var standIn = Path.Combine(AppContext.BaseDirectory, "Execution", "Python", "Fixtures", "flyte", "__init__.py");
        _fixture.WritePython("flyte/__init__.py", File.ReadAllText(standIn));
        _fixture.WritePython("app/flows.py", """
            import asyncio
            import flyte

            env = flyte.TaskEnvironment(name="etl", resources=flyte.Resources(cpu="1", memory="512Mi"))

            @env.task
            async def load_data(n: int, scale: float = 1.0) -> str:
                await asyncio.sleep(0)
                return f"{n}:{n * scale}:called via the task object={bool(env.calls)}"

            @env.task(cache="auto")
            def label(name: str) -> str:
                return name.upper()
            """);
    }

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Run_AsyncFlyteTask_CallsUnderlyingFunctionWithJsonInputs()
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var load = env.PythonTask<int, double, string>("app.flows:load_data");

        var run = await _fixture.Runtime.Run(load, 4, 2.5, _fixture.Options());

        // The underlying coroutine function was awaited directly, not called through the task object.
        Assert.Equal("4:10.0:called via the task object=False", await run.GetOutputAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Run_SyncFlyteTaskWithOptions_CallsUnderlyingFunction()
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var label = env.PythonTask<string, string>("app.flows:label");

        var run = await _fixture.Runtime.Run(label, "abc", _fixture.Options());

        Assert.Equal("ABC", await run.GetOutputAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Check_FlyteTaskSignature_IsTheUnderlyingFunctions()
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var wrong = env.PythonTask<string, int, string>("app.flows:load_data");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.Runtime.Run(wrong, "x", 1, _fixture.Options()));

        Assert.Contains("input 'n' of Python task app.flows:load_data is annotated 'int'", ex.Message);
    }
}
