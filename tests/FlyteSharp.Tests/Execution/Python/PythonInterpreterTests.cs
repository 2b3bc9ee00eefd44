using FlyteSharp.Configuration;
using FlyteSharp.Execution.Python;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Python;

public class PythonInterpreterTests : IDisposable
{
    private readonly FlyteSharp.Tests.Execution.RunFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Resolve_ProjectHasVenv_UsesVenvInterpreter()
    {
        File.WriteAllText(Path.Combine(_fixture.Root, "pyproject.toml"), "[project]\nname = \"x\"\n");
        var venvPython = Path.Combine(_fixture.Root, ".venv", "bin", "python");
        Directory.CreateDirectory(Path.GetDirectoryName(venvPython)!);
        File.WriteAllText(venvPython, "");

        Assert.Equal(venvPython, PythonInterpreter.Resolve(_fixture.Config, _fixture.SrcDir));
    }

    [Fact]
    public void Resolve_NoVenv_UsesConfiguredNameOnPath()
    {
        var resolved = PythonInterpreter.Resolve(_fixture.Config, _fixture.SrcDir);

        Assert.Equal("python3", Path.GetFileName(resolved));
        Assert.True(File.Exists(resolved));
    }

    [Fact]
    public async Task Run_ConfiguredPythonMissing_FailsNamingInterpreterAndFix()
    {
        _fixture.WritePython("app/etl.py", "def f() -> int:\n    return 1\n");
        _fixture.Config = _fixture.Config with { Python = "python3-does-not-exist" };
        var f = new TaskEnvironment("etl", Image.FromDebianBase()).PythonTask<int>("app.etl:f");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.Runtime.Run(f, _fixture.Options()));

        Assert.Contains("'python3-does-not-exist'", ex.Message);
        Assert.Contains("not found on PATH", ex.Message);
        Assert.Contains("FLYTESHARP_PYTHON", ex.Fix);
    }

    [Fact]
    public void Resolve_ConfiguredPathMissing_NamesConfigFile()
    {
        var config = new FlyteConfig { Python = "/nowhere/python3", SourceFile = "/etc/flytesharp.toml" };

        var ex = Assert.Throws<FlyteSharpException>(() => PythonInterpreter.Resolve(config, null));

        Assert.Equal("/etc/flytesharp.toml", ex.File);
        Assert.Contains("/nowhere/python3", ex.Message);
    }
}
