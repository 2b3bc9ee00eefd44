using FlyteSharp.Deploy;

namespace FlyteSharp.Tests.Deploy;

/// <summary>The deploy check cache on the real filesystem: only whole entries of this format, key and Python are trusted.</summary>
public sealed class DeployCheckCacheTests : IDisposable
{
    private const string Key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string Answer = """[{"task":"app.ops:add","ok":true,"file":"app/ops.py","is_async":false,"parameters":[{"name":"x","annotation":"int","kind":"POSITIONAL_OR_KEYWORD","has_default":false}]}]""";
    private readonly string _home = Directory.CreateTempSubdirectory("flytesharp-check-cache-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task TryRead_EntryWrittenForThisKeyAndPython_TheAnswers()
    {
        var cache = new DeployCheckCache(_home);
        await cache.WriteAsync(Key, "3.11", Answer, TestContext.Current.CancellationToken);

        var infos = cache.TryRead(Key, "3.11", ["app.ops:add"]);

        var info = Assert.Single(infos!);
        Assert.Equal("app/ops.py", info.File);
        Assert.Equal("x", Assert.Single(info.Parameters).Name);
    }

    [Theory]
    [InlineData("3.12", "app.ops:add")]
    [InlineData("3.11", "app.ops:sub")]
    public async Task TryRead_OtherPythonOrOtherTasks_Null(string python, string task)
    {
        var cache = new DeployCheckCache(_home);
        await cache.WriteAsync(Key, "3.11", Answer, TestContext.Current.CancellationToken);

        Assert.Null(cache.TryRead(Key, python, [task]));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("""{"format":1,"key":"KEY","python":"3.11","describe":[{"task":"app.ops:add","ok":tr""")]
    [InlineData("""{"format":2,"key":"KEY","python":"3.11","describe":ANSWER}""")]
    [InlineData("""{"format":1,"key":"ffff","python":"3.11","describe":ANSWER}""")]
    [InlineData("""{"format":1,"key":"KEY","describe":ANSWER}""")]
    [InlineData("""{"format":"1","key":"KEY","python":"3.11","describe":ANSWER}""")]
    [InlineData("""{"format":1,"key":"KEY","python":"3.11","describe":{}}""")]
    [InlineData("""{"format":1,"key":"KEY","python":"3.11","describe":[{"task":"app.ops:add","ok":false,"error":{"type":"ImportError","message":"m","defined":[]}}]}""")]
    [InlineData("""{"format":1,"key":"KEY","python":"3.11","describe":[{"task":"app.ops:add","ok":true,"file":"app/ops.py","is_async":false,"parameters":[{"name":null,"annotation":null,"kind":"K","has_default":false}]}]}""")]
    [InlineData("""[1, 2, 3]""")]
    public async Task TryRead_GarbageTruncatedForeignOrFailedEntry_NullAndReplacedByTheNextWrite(string content)
    {
        var cache = new DeployCheckCache(_home);
        Directory.CreateDirectory(cache.Directory);
        var path = Path.Combine(cache.Directory, Key + ".json");
        File.WriteAllText(path, content.Replace("KEY", Key, StringComparison.Ordinal).Replace("ANSWER", Answer, StringComparison.Ordinal));

        Assert.Null(cache.TryRead(Key, "3.11", ["app.ops:add"]));

        await cache.WriteAsync(Key, "3.11", Answer, TestContext.Current.CancellationToken);
        Assert.NotNull(cache.TryRead(Key, "3.11", ["app.ops:add"]));
    }

    [Fact]
    public async Task TryRead_ValidEntryCopiedUnderAnotherKey_Null()
    {
        var cache = new DeployCheckCache(_home);
        await cache.WriteAsync(Key, "3.11", Answer, TestContext.Current.CancellationToken);
        var other = new string('e', 64);
        File.Copy(Path.Combine(cache.Directory, Key + ".json"), Path.Combine(cache.Directory, other + ".json"));

        Assert.Null(cache.TryRead(other, "3.11", ["app.ops:add"]));
    }

    [Fact]
    public async Task WriteAsync_ManyEntries_KeepsTheNewestBounded()
    {
        var cache = new DeployCheckCache(_home);
        for (var i = 0; i < 260; i++)
        {
            await cache.WriteAsync(i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture), "3.11", Answer, TestContext.Current.CancellationToken);
        }

        Assert.Equal(256, Directory.GetFiles(cache.Directory, "*.json").Length);
    }
}
