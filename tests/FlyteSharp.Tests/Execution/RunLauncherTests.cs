using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution;

public class RunLauncherTests : IDisposable
{
    private readonly RunFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Start_RootDirIsASymlinkLoop_SaysSymlinkLoopBeforeRecordingARun()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n\n");
        var loop = Path.Combine(_fixture.Root, "loop");
        File.CreateSymbolicLink(loop, loop);
        var load = new TaskEnvironment("etl", Image.FromDebianBase()).PythonTask<int, int>("app.etl:load");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.RuntimeAt(loop).Run(load, 1, _fixture.Options()));

        Assert.Contains("symlink loop", ex.Reason);
        Assert.Equal(loop, ex.File);
        Assert.Empty(RunStore.Open(_fixture.Config.EffectiveRunDatabase).ListRuns());
    }

    [Fact]
    public void InitFromConfig_RootDirIsASymlinkLoop_SaysSymlinkLoop()
    {
        var loop = Path.Combine(_fixture.Root, "loop");
        File.CreateSymbolicLink(loop, loop);

        var ex = Assert.Throws<FlyteSharpException>(() => Flyte.InitFromConfig(rootDir: loop, config: _fixture.Config));

        Assert.Contains("symlink loop", ex.Reason);
    }
}
