using System.Formats.Tar;
using System.IO.Compression;
using FlyteSharp.Bundles;

namespace FlyteSharp.Tests.Bundles;

public class DotnetBundlerTests
{
    // A build output as the SDK lays it out: the user's two projects, a NuGet package, FlyteSharp as a project reference.
    private const string DepsJson = """
        {
          "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0", "signature": "" },
          "targets": {
            ".NETCoreApp,Version=v10.0": {
              "App/1.0.0": { "dependencies": { "Lib": "1.0.0", "FlyteSharp": "1.0.0", "Newtonsoft.Json": "13.0.3" }, "runtime": { "App.dll": {} }, "resources": { "de/App.resources.dll": { "locale": "de" } } },
              "Lib/1.0.0": { "runtime": { "Lib.dll": {} } },
              "FlyteSharp/1.0.0": { "runtime": { "FlyteSharp.dll": {} } },
              "Newtonsoft.Json/13.0.3": { "runtime": { "lib/net6.0/Newtonsoft.Json.dll": { "assemblyVersion": "13.0.0.0" } } }
            }
          },
          "libraries": {
            "App/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
            "Lib/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
            "FlyteSharp/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
            "Newtonsoft.Json/13.0.3": { "type": "package", "serviceable": true, "sha512": "sha512-x" }
          }
        }
        """;

    private static TempTree Output(string root = "")
    {
        var tree = new TempTree();
        foreach (var file in new[] { "App.dll", "App.pdb", "App.runtimeconfig.json", "Lib.dll", "FlyteSharp.dll", "Newtonsoft.Json.dll", "de/App.resources.dll", "App.xml", "obj.cache" })
        {
            tree.Write(root + file, "bytes of " + file);
        }

        tree.Write(root + "App.deps.json", DepsJson);
        return tree;
    }

    [Fact]
    public void Select_BuildOutput_TakesTheUsersProjectsOnly()
    {
        using var output = Output();

        var files = DotnetBundler.Select(output.PathOf("App.dll"), out var deps);

        Assert.Equal(["App.deps.json", "App.dll", "App.pdb", "App.runtimeconfig.json", "Lib.dll", "de/App.resources.dll"], files.Select(f => f.RelativePath));
        Assert.Equal(new Version(10, 0), deps.FrameworkVersion);
    }

    [Fact]
    public async Task CreateAsync_SameOutputAtTwoPaths_SameDigest_AndTheArchiveHoldsTheSelection()
    {
        using var first = Output();
        using var second = Output("nested/deeper/");
        using var cache = new TempTree();
        var options = new BundleOptions { CacheDirectory = cache.Root };

        var a = await DotnetBundler.CreateAsync(first.PathOf("App.dll"), options, TestContext.Current.CancellationToken);
        var b = await DotnetBundler.CreateAsync(second.PathOf("nested/deeper/App.dll"), options, TestContext.Current.CancellationToken);

        Assert.Equal(a.Digest, b.Digest);
        Assert.Equal("App.dll", a.EntryAssembly);
        await using var gzip = new GZipStream(File.OpenRead(a.ArchivePath), CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        var names = new List<string>();
        while (await tar.GetNextEntryAsync(cancellationToken: TestContext.Current.CancellationToken) is { } entry)
        {
            names.Add(entry.Name);
        }

        Assert.Equal(a.Files, names);
    }

    [Fact]
    public void Select_ListedFileMissing_NamesItAndTheDepsFile()
    {
        using var output = Output();
        File.Delete(output.PathOf("Lib.dll"));

        var error = Assert.Throws<FlyteSharpException>(() => DotnetBundler.Select(output.PathOf("App.dll"), out _));

        Assert.Equal("the build output lacks 'Lib.dll', which its deps.json lists", error.Reason);
        Assert.Equal(output.PathOf("App.deps.json"), error.File);
    }

    [Fact]
    public void Select_NoDepsJson_SaysHowToGetOne()
    {
        using var output = Output();
        File.Delete(output.PathOf("App.deps.json"));

        var error = Assert.Throws<FlyteSharpException>(() => DotnetBundler.Select(output.PathOf("App.dll"), out _));

        Assert.Equal("the assembly has no .deps.json next to it", error.Reason);
    }

    [Fact]
    public void Select_DepsJsonListsAPathOutsideTheOutput_IsRefused()
    {
        using var output = Output();
        File.WriteAllText(output.PathOf("App.deps.json"), DepsJson.Replace("\"Lib.dll\"", "\"../../etc/passwd\"", StringComparison.Ordinal));

        var error = Assert.Throws<FlyteSharpException>(() => DotnetBundler.Select(output.PathOf("App.dll"), out _));

        Assert.Equal("deps.json lists '../../etc/passwd', which is not a path inside the build output", error.Reason);
    }
}
