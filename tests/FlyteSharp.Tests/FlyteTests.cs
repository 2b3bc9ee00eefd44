using FlyteSharp.Images;
using FlyteSharp.Tasks;
using FlyteSharp.Tests.Execution;

namespace FlyteSharp.Tests;

// These tests swap the process-wide front runtime; xunit runs one class's tests one at a time, and no other test uses the front.
public class FlyteTests
{
    [Fact]
    public void InitFromConfig_RootDirAndConfig_BecomeTheFrontRuntime()
    {
        using var fixture = new RunFixture();
        var previous = Flyte.Runtime;
        try
        {
            var config = Flyte.InitFromConfig(rootDir: fixture.SrcDir, config: fixture.Config);

            Assert.Equal(fixture.SrcDir, config.RootDir);
            Assert.Equal(fixture.SrcDir, Flyte.Runtime.RootDir);
            Assert.Same(config, Flyte.CurrentConfig);
        }
        finally
        {
            Flyte.Runtime = previous;
        }
    }

    [Fact]
    public async Task InvokeAsync_PythonTaskOutsideRun_RunsFromTheFrontRuntimesRootDir()
    {
        using var fixture = new RunFixture();
        fixture.WritePython("app/plain.py", "def twice(x: int) -> int:\n    return 2 * x\n");
        var twice = new TaskEnvironment("plain", Image.FromDebianBase()).PythonTask<int, int>("app.plain:twice");
        var previous = Flyte.Runtime;
        Flyte.Runtime = fixture.Runtime;
        try
        {
            Assert.Equal(42, await twice.InvokeAsync(21));
        }
        finally
        {
            Flyte.Runtime = previous;
        }
    }
}
