using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution;

/// <summary>The cache key's code version, through real runs (real python3, real run store).</summary>
public class TaskCodeVersionTests : IDisposable
{
    private readonly RunFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static TaskEnvironment NewEnv() => new("etl", Image.FromDebianBase());

    [Fact]
    public async Task Run_CachedPythonTaskModuleEdited_RunsTheEditedCode()
    {
        _fixture.WritePython("app/calc.py", "def bump(x: int) -> int:\n    return x + 1\n");
        var bump = NewEnv().PythonTask<int, int>("app.calc:bump", new TaskOptions { Cache = true });

        var (first, _) = await RunAsync(bump, 1);
        var (again, againAction) = await RunAsync(bump, 1);
        _fixture.WritePython("app/calc.py", "def bump(x: int) -> int:\n    return x + 100\n");
        var (edited, editedAction) = await RunAsync(bump, 1);

        Assert.Equal(2, first);
        Assert.Equal(2, again);
        Assert.True(againAction.CacheHit, "an unchanged module hits the cache");
        Assert.Equal(101, edited);
        Assert.False(editedAction.CacheHit, "an edited module must not return the old output");
        Assert.Equal(ActionStatus.Succeeded, editedAction.Status);
    }

    [Fact]
    public async Task Run_CachedPythonTaskOtherFileEdited_StaysCached()
    {
        _fixture.WritePython("app/calc.py", "def bump(x: int) -> int:\n    return x + 1\n");
        _fixture.WritePython("app/other.py", "VALUE = 1\n");
        var bump = NewEnv().PythonTask<int, int>("app.calc:bump", new TaskOptions { Cache = true });

        await RunAsync(bump, 1);
        _fixture.WritePython("app/other.py", "VALUE = 2\n");
        var (output, action) = await RunAsync(bump, 1);

        Assert.Equal(2, output);
        Assert.True(action.CacheHit, "module granularity: editing another module keeps the cache");
    }

    [Fact]
    public async Task Run_CachedPythonPackageTaskEdited_RunsTheEditedCode()
    {
        _fixture.WritePython("pkg/__init__.py", "def name() -> str:\n    return 'one'\n");
        var name = NewEnv().PythonTask<string>("pkg:name", new TaskOptions { Cache = true });

        await RunAsync(name);
        _fixture.WritePython("pkg/__init__.py", "def name() -> str:\n    return 'two'\n");
        var (output, action) = await RunAsync(name);

        Assert.Equal("two", output);
        Assert.False(action.CacheHit);
    }

    [Fact]
    public async Task Run_CachedPythonModuleShadowedByPackage_VersionsTheFilePythonImports()
    {
        // Python imports app/calc/__init__.py, not app/calc.py, when both exist: the key must follow the import.
        _fixture.WritePython("app/calc.py", "def bump(x: int) -> int:\n    return x - 1000\n");
        _fixture.WritePython("app/calc/__init__.py", "def bump(x: int) -> int:\n    return x + 1\n");
        var bump = NewEnv().PythonTask<int, int>("app.calc:bump", new TaskOptions { Cache = true });

        var (first, _) = await RunAsync(bump, 1);
        _fixture.WritePython("app/calc/__init__.py", "def bump(x: int) -> int:\n    return x + 100\n");
        var (edited, editedAction) = await RunAsync(bump, 1);

        Assert.Equal(2, first);
        Assert.False(editedAction.CacheHit, "an edit of the package Python imports must not return the old output");
        Assert.Equal(101, edited);
    }

    [Fact]
    public async Task Run_CachedPythonTaskPinnedVersion_ReusesOutputAcrossEdits()
    {
        _fixture.WritePython("app/calc.py", "def bump(x: int) -> int:\n    return x + 1\n");
        var bump = NewEnv().PythonTask<int, int>("app.calc:bump", new TaskOptions { Cache = true, CacheVersion = "1" });

        await RunAsync(bump, 1);
        _fixture.WritePython("app/calc.py", "def bump(x: int) -> int:\n    return x + 100\n");
        var (output, action) = await RunAsync(bump, 1);

        Assert.Equal(2, output);
        Assert.True(action.CacheHit, "a pinned CacheVersion is the user's promise that the behaviour did not change");
    }

    [Fact]
    public async Task Run_CachedCSharpTaskBodyInAnotherAssembly_RunsTheNewBody()
    {
        // Same task name, same inputs; the body moves to another assembly (another MVID), as a rebuilt assembly's would.
        var inCoreLib = NewEnv().Task<int, int>("echo", Task.FromResult, new TaskOptions { Cache = true });
        var inTests = NewEnv().Task("echo", (int result) => Task.FromResult(result + 1), new TaskOptions { Cache = true });

        var (first, _) = await RunAsync(inCoreLib, 5);
        var (second, action) = await RunAsync(inTests, 5);

        Assert.Equal(5, first);
        Assert.Equal(6, second);
        Assert.False(action.CacheHit);
    }

    [Fact]
    public async Task Run_CachedTaskVersion_IsRecordedWithTheCacheEntry()
    {
        _fixture.WritePython("app/calc.py", "def bump(x: int) -> int:\n    return x + 1\n");
        var bump = NewEnv().PythonTask<int, int>("app.calc:bump", new TaskOptions { Cache = true });
        var twice = NewEnv().Task("twice", (int x) => Task.FromResult(x * 2), new TaskOptions { Cache = true });

        await RunAsync(bump, 1);
        await RunAsync(twice, 1);

        var store = RunStore.Open(_fixture.Config.EffectiveRunDatabase);
        using var connection = store.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT task, version FROM cache ORDER BY task";
        using var reader = command.ExecuteReader();
        var versions = new Dictionary<string, string>();
        while (reader.Read())
        {
            versions[reader.GetString(0)] = reader.GetString(1);
        }

        var module = System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(_fixture.SrcDir, "app", "calc.py")));
        Assert.Equal("module:sha256:" + Convert.ToHexStringLower(module), versions["app.calc:bump"]);
        Assert.Equal("mvid:" + typeof(TaskCodeVersionTests).Module.ModuleVersionId.ToString("N"), versions["twice"]);
    }

    [Fact]
    public void Options_BlankCacheVersion_IsRefused()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => NewEnv().Task("t", (int x) => Task.FromResult(x), new TaskOptions { Cache = true, CacheVersion = " " }));

        Assert.Contains("CacheVersion must not be empty", ex.Message);
    }

    private async Task<(T Output, ActionRecord Root)> RunAsync<T>(FlyteTask<T> task)
    {
        var run = await Flyte.Run(task, _fixture.Options());
        var output = await run.GetOutputAsync(TestContext.Current.CancellationToken);
        return (output, (await run.GetActionsAsync(TestContext.Current.CancellationToken)).Single());
    }

    private async Task<(TOut Output, ActionRecord Root)> RunAsync<T1, TOut>(FlyteTask<T1, TOut> task, T1 input)
    {
        var run = await Flyte.Run(task, input, _fixture.Options());
        var output = await run.GetOutputAsync(TestContext.Current.CancellationToken);
        return (output, (await run.GetActionsAsync(TestContext.Current.CancellationToken)).Single());
    }
}
