using System.Formats.Tar;
using System.Text;
using FlyteSharp.Deploy;

namespace FlyteSharp.Tests.Deploy;

/// <summary>The interface digest script, run by the host's real python3 on real tars.</summary>
public sealed class InterfaceDigestTests : IDisposable
{
    private const string Add = "def add(x: int) -> int:\n    return x + 1\n";
    private readonly string _root = Directory.CreateTempSubdirectory("flytesharp-digest-").FullName;
    private int _tars;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Compute_EditInsideAFunctionBodyNothingCallsAtImport_SameDigest()
    {
        Assert.Equal(await DigestAsync(("app/ops.py", Add)), await DigestAsync(("app/ops.py", "def add(x: int) -> int:\n    y = x * 2\n    return y - x + 41\n")));
    }

    [Theory]
    [InlineData("import missing_pkg\ndef add(x: int) -> int:\n    return x + 1\n")]
    [InlineData("def add(x: int = 3) -> int:\n    return x + 1\n")]
    [InlineData("def add(x: int, y: int) -> int:\n    return x + 1\n")]
    [InlineData("def add(x: float) -> int:\n    return x + 1\n")]
    [InlineData("import functools\n@functools.cache\ndef add(x: int) -> int:\n    return x + 1\n")]
    [InlineData("async def add(x: int) -> int:\n    return x + 1\n")]
    [InlineData("def add(x: int) -> int:\n    \"\"\"Adds one.\"\"\"\n    return x + 1\n")]
    [InlineData("def add(x: int) -> int:\n    yield x + 1\n")]
    public async Task Compute_ChangeSeenAtImport_DifferentDigest(string edited)
    {
        Assert.NotEqual(await DigestAsync(("app/ops.py", Add)), await DigestAsync(("app/ops.py", edited)));
    }

    [Theory]
    // Called at import: directly, through another function, by a decorator of the project, from another module, by name.
    [InlineData("def helper():\n    return {0}\nX = helper()\n")]
    [InlineData("def inner():\n    return {0}\ndef outer():\n    return inner()\nX = outer()\n")]
    [InlineData("def deco(f):\n    assert {0}\n    return f\n@deco\ndef add(x: int) -> int:\n    return x\n")]
    [InlineData("class C:\n    def __init__(self):\n        self.v = {0}\nC()\n")]
    [InlineData("import sys\ndef helper():\n    return {0}\nX = vars()['helper']()\n")]
    public async Task Compute_EditInsideABodyImportCanReach_DifferentDigest(string template)
    {
        Assert.NotEqual(
            await DigestAsync(("app/ops.py", string.Format(System.Globalization.CultureInfo.InvariantCulture, template, "1"))),
            await DigestAsync(("app/ops.py", string.Format(System.Globalization.CultureInfo.InvariantCulture, template, "2"))));
    }

    [Fact]
    public async Task Compute_FunctionOfAnotherModuleCalledAtImport_BodyEditChangesDigest()
    {
        Assert.NotEqual(
            await DigestAsync(("app/util.py", "def setting():\n    return 1\n"), ("app/ops.py", "from app.util import setting\nS = setting()\n")),
            await DigestAsync(("app/util.py", "def setting():\n    return 1 / 0\n"), ("app/ops.py", "from app.util import setting\nS = setting()\n")));
    }

    [Fact]
    public async Task Compute_DataFileOrModeOrPathChanged_DifferentDigest()
    {
        var before = await DigestAsync(("app/ops.py", Add), ("app/data.txt", "a"));
        Assert.NotEqual(before, await DigestAsync(("app/ops.py", Add), ("app/data.txt", "b")));
        Assert.NotEqual(before, await DigestAsync(("app/ops.py", Add), ("app/data2.txt", "a")));
        Assert.NotEqual(before, await DigestAsync(executable: true, ("app/ops.py", Add), ("app/data.txt", "a")));
    }

    [Theory]
    [InlineData("def add(x: int) -> int:\n    return x +\n")]
    [InlineData("def add(x: int) -> int:\n    await x\n")]
    [InlineData("def add(x: int) -> int:\n    nonlocal y\n    return x\n")]
    [InlineData("def add(x: int) -> int:\n    return x\n   return x\n")]
    public async Task Compute_BodyDoesNotCompile_NoDigest(string ops)
    {
        Assert.Null(await DigestAsync(("app/ops.py", ops)));
    }

    [Fact]
    public async Task Compute_SeveralTars_OneProcessOneDigestEachAndTheHostVersion()
    {
        var good = WriteTar(false, ("app/ops.py", Add));
        var bad = WriteTar(false, ("app/ops.py", "def add(:\n"));

        var result = await InterfaceDigest.ComputeAsync("python3", [good, bad, good], TestContext.Current.CancellationToken);

        Assert.NotNull(result);
        Assert.Matches(@"^3\.\d+$", result.Python);
        Assert.Equal(3, result.Digests.Count);
        Assert.NotNull(result.Digests[0]);
        Assert.Null(result.Digests[1]);
        Assert.Equal(result.Digests[0], result.Digests[2]);
    }

    [Fact]
    public async Task Compute_NoPython_NullNotAnException()
    {
        Assert.Null(await InterfaceDigest.ComputeAsync(Path.Combine(_root, "no-python"), [WriteTar(false, ("a.py", Add))], TestContext.Current.CancellationToken));
    }

    private Task<string?> DigestAsync(params (string Path, string Content)[] files) => DigestAsync(false, files);

    private async Task<string?> DigestAsync(bool executable, params (string Path, string Content)[] files)
    {
        var result = await InterfaceDigest.ComputeAsync("python3", [WriteTar(executable, files)], TestContext.Current.CancellationToken);
        Assert.NotNull(result);
        return Assert.Single(result.Digests);
    }

    private string WriteTar(bool executable, params (string Path, string Content)[] files)
    {
        var path = Path.Combine(_root, $"code-{++_tars}.tar");
        using var stream = File.Create(path);
        using var writer = new TarWriter(stream, TarEntryFormat.Pax);
        foreach (var (name, content) in files)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "root/" + name)
            {
                Mode = executable && name.EndsWith(".txt", StringComparison.Ordinal)
                    ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                    : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            };
            writer.WriteEntry(entry);
        }

        return path;
    }
}
