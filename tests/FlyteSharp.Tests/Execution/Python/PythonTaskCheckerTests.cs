using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Python;

public class PythonTaskCheckerTests : IDisposable
{
    private readonly FlyteSharp.Tests.Execution.RunFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static TaskEnvironment NewEnv() => new("etl", Image.FromDebianBase());

    [Fact]
    public async Task Check_RootDirTooShallow_FailsBeforeRunWithRootDirHint()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n\n");
        var env = NewEnv();
        var load = env.PythonTask<int, int>("app.etl:load");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.RuntimeAt(_fixture.Root).Run(load, 1, _fixture.Options()));

        Assert.Contains("module 'app.etl' is not in the code bundle", ex.Message);
        Assert.Equal(Path.Combine(_fixture.Root, "app/etl.py"), ex.File);
        Assert.Contains($"set root_dir to {_fixture.SrcDir}", ex.Fix);
        Assert.Empty(RunStore.Open(_fixture.Config.EffectiveRunDatabase).ListRuns());
    }

    [Fact]
    public async Task Run_SameFunctionDeclaredTwiceWithOtherOptions_SecondDeclarationBindsTextInputs()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n * 2\n");
        var env = NewEnv();
        _ = env.PythonTask<int, int>("app.etl:load");
        var retried = env.PythonTask<int, int>("app.etl:load", new TaskOptions { Retries = 2 });

        var run = await _fixture.Runtime.RunWithTextInputsAsync(retried, new Dictionary<string, string> { ["n"] = "21" }, _fixture.Options());

        Assert.Equal(RunStatus.Succeeded, await run.WaitAsync(TestContext.Current.CancellationToken));
        Assert.Equal("42", (await run.GetRecordAsync(TestContext.Current.CancellationToken)).OutputsJson);
    }

    [Fact]
    public async Task Run_SameFunctionDeclaredTwice_TypedRunOfEitherDeclarationSucceeds()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n + 1\n");
        var env = NewEnv();
        var plain = env.PythonTask<int, int>("app.etl:load");
        var cached = env.PythonTask<int, int>("app.etl:load", new TaskOptions { Cache = true });

        var first = await _fixture.Runtime.Run(cached, 1, _fixture.Options());
        var second = await _fixture.Runtime.Run(plain, 2, _fixture.Options());

        Assert.Equal(2, await first.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Equal(3, await second.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Equal(["n"], cached.Parameters!.Select(p => p.Name));
    }

    [Fact]
    public async Task Check_RootDirTooDeep_SuggestsParent()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n\n");
        var env = NewEnv();
        var load = env.PythonTask<int, int>("app.etl:load");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.RuntimeAt(Path.Combine(_fixture.SrcDir, "app")).Run(load, 1, _fixture.Options()));

        Assert.Contains($"root_dir is too deep: set it to {_fixture.SrcDir}", ex.Fix);
    }

    [Fact]
    public async Task Check_ModuleIgnoredByBundleRules_SaysItIsNotInBundle()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n\n");
        _fixture.WritePython("app/secret.py", "def hidden() -> int:\n    return 1\n");
        File.WriteAllText(Path.Combine(_fixture.SrcDir, ".flyteignore"), "app/secret.py\n");
        var env = NewEnv();
        var hidden = env.PythonTask<int>("app.secret:hidden");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.Runtime.Run(hidden, _fixture.Options()));

        Assert.Contains("not in the code bundle", ex.Message);
        Assert.Contains("exists under root_dir but is not in the bundle", ex.Fix);
    }

    [Fact]
    public async Task Check_FunctionMissing_ListsWhatTheModuleDefines()
    {
        _fixture.WritePython("app/etl.py", "def load_data(n: int) -> int:\n    return n\n\ndef transform_data(raw: list) -> list:\n    return raw\n");
        var env = NewEnv();
        var missing = env.PythonTask<int, int>("app.etl:lod_data");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.Runtime.Run(missing, 1, _fixture.Options()));

        Assert.Contains("defines no 'lod_data'", ex.Message);
        Assert.Contains("the module defines: load_data, transform_data", ex.Message);
    }

    [Fact]
    public async Task Check_SiblingTaskOfEnvironmentBroken_RunGoesAheadWhenItIsNotCalled()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n\n");
        var env = NewEnv();
        var good = env.PythonTask<int, int>("app.etl:load");
        _ = env.PythonTask<int, int>("app.gone:transform");
        var root = env.Task("root", async (int n) => await good.InvokeAsync(n) + 1);

        var run = await _fixture.Runtime.Run(root, 1, _fixture.Options());

        Assert.Equal(2, await run.GetOutputAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Check_SiblingTaskOfEnvironmentBroken_FailsOnlyWhenCalled()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n\n");
        var env = NewEnv();
        var good = env.PythonTask<int, int>("app.etl:load");
        var broken = env.PythonTask<int, int>("app.gone:transform");
        var root = env.Task("root", async (int n) => await broken.InvokeAsync(await good.InvokeAsync(n)));

        var run = await _fixture.Runtime.Run(root, 1, _fixture.Options());

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Contains("app.gone:transform", ex.Message);
        Assert.Contains("not in the code bundle", ex.Message);
    }

    [Fact]
    public async Task Check_RootTaskBroken_BlocksTheRunEvenWithHealthySiblings()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> int:\n    return n\n");
        var env = NewEnv();
        _ = env.PythonTask<int, int>("app.etl:load");
        var broken = env.PythonTask<int, int>("app.etl:transform");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.Runtime.Run(broken, 1, _fixture.Options()));

        Assert.Contains("defines no 'transform'", ex.Message);
        Assert.Empty(RunStore.Open(_fixture.Config.EffectiveRunDatabase).ListRuns());
    }

    [Fact]
    public async Task Check_ArityDiffers_NamesPythonParameters()
    {
        _fixture.WritePython("app/ml.py", "def train(features: list[float], labels: list[float]) -> dict:\n    return {}\n");
        var env = NewEnv();
        var train = env.PythonTask<List<double>, Dictionary<string, double>>("app.ml:train");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.Runtime.Run(train, [1.0], _fixture.Options()));

        Assert.Contains("takes (features: list[float], labels: list[float]) but is declared with 1 input(s) (List<double>)", ex.Message);
    }

    [Fact]
    public async Task Check_AnnotationContradictsDeclaredType_NamesParameterAndTypes()
    {
        _fixture.WritePython("app/etl.py", "def load(n: int) -> list[float]:\n    return [1.0] * n\n");
        var env = NewEnv();
        var load = env.PythonTask<string, List<double>>("app.etl:load");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.Runtime.Run(load, "3", _fixture.Options()));

        Assert.Contains("input 'n' of Python task app.etl:load is annotated 'int' in Python but declared as string in C#", ex.Message);
    }

    [Fact]
    public async Task Check_ModuleRaisesOnImport_ReportsTheError()
    {
        _fixture.WritePython("app/broken.py", "import does_not_exist_anywhere\n\ndef f() -> int:\n    return 1\n");
        var env = NewEnv();
        var f = env.PythonTask<int>("app.broken:f");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.Runtime.Run(f, _fixture.Options()));

        Assert.Contains("importing 'app.broken' raised ModuleNotFoundError", ex.Message);
    }

    [Theory]
    [InlineData("int", typeof(int), true)]
    [InlineData("int", typeof(string), false)]
    [InlineData("float", typeof(double), true)]
    [InlineData("str", typeof(int), false)]
    [InlineData("list[float]", typeof(List<double>), true)]
    [InlineData("list[float]", typeof(double[]), true)]
    [InlineData("list[float]", typeof(Dictionary<string, double>), false)]
    [InlineData("dict", typeof(Dictionary<string, double>), true)]
    [InlineData("dict", typeof(int), false)]
    [InlineData("MyModel", typeof(int), true)]
    public void Compatible_AnnotationAndType_MatchesPythonMeaning(string annotation, Type type, bool expected) =>
        Assert.Equal(expected, FlyteSharp.Execution.Python.PythonTaskChecker.Compatible(annotation, type));
}
