using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public class DotnetBaseImageLayerTests
{
    private static ResolvedImage Resolve(Image image, string workerDirectory, string dotnetBase = "mcr.microsoft.com/dotnet/runtime:{version}") =>
        image.Resolve(new ImageResolveOptions(ProjectTree.Config with { DotnetWorkerDirectory = workerDirectory, DotnetBaseImage = dotnetBase }, CopyStyle.All),
            new FileDigestCache(TimeProvider.System));

    private static TempTree Worker()
    {
        var tree = new TempTree();
        tree.Write("flytesharp-worker.dll", "entry");
        tree.Write("FlyteSharp.dll", "library");
        tree.Write("runtimes/linux-x64/native/libe_sqlite3.so", "native");
        tree.Write("FlyteSharp.pdb", "symbols");
        return tree;
    }

    [Fact]
    public void Resolve_FromDotnetBase_CopiesTheWorkerToOptFlytesharpWorkerFromTheVersionedBase()
    {
        using var worker = Worker();

        var resolved = Resolve(Image.FromDotnetBase("10.0"), worker.Root);

        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/runtime:10.0\nUSER root\nCOPY .flytesharp/worker/ /opt/flytesharp/worker/\n", resolved.Dockerfile);
        Assert.Contains(".flytesharp/worker/flytesharp-worker.dll", resolved.ContextFiles);
        Assert.Contains(".flytesharp/worker/runtimes/linux-x64/native/libe_sqlite3.so", resolved.ContextFiles);
        Assert.DoesNotContain(".flytesharp/worker/FlyteSharp.pdb", resolved.ContextFiles); // symbols stay out of the image and its tag
    }

    [Fact]
    public void Resolve_WorkerFileChanges_TagChanges_SymbolsDoNot()
    {
        using var worker = Worker();
        var before = Resolve(Image.FromDotnetBase(), worker.Root).Tag;

        worker.Write("FlyteSharp.pdb", "other symbols");
        var afterSymbols = Resolve(Image.FromDotnetBase(), worker.Root).Tag;
        worker.Write("FlyteSharp.dll", "library v2");
        var afterLibrary = Resolve(Image.FromDotnetBase(), worker.Root).Tag;

        Assert.Equal(before, afterSymbols);
        Assert.NotEqual(before, afterLibrary);
    }

    [Fact]
    public void Resolve_ConfiguredBaseWithoutPlaceholder_IsUsedAsIs_VersionStillInTheTag()
    {
        using var worker = Worker();

        var ten = Resolve(Image.FromDotnetBase("10.0"), worker.Root, "localhost/flytesharp-test/debian-dotnet:bookworm");
        var nine = Resolve(Image.FromDotnetBase("9.0"), worker.Root, "localhost/flytesharp-test/debian-dotnet:bookworm");

        Assert.StartsWith("FROM localhost/flytesharp-test/debian-dotnet:bookworm\n", ten.Dockerfile);
        Assert.NotEqual(ten.Tag, nine.Tag);
    }

    [Fact]
    public void Resolve_NoWorkerFolder_NamesTheFolderAndTheConfigKey()
    {
        using var empty = new TempTree();

        var error = Assert.Throws<FlyteSharpException>(() => Resolve(Image.FromDotnetBase(), empty.Root));

        Assert.Contains($"FlyteSharp's .NET worker (flytesharp-worker.dll) is not in {empty.Root}", error.Reason, StringComparison.Ordinal);
        Assert.Contains("[images] dotnet_worker", error.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("net10.0")]
    [InlineData("10.0.1")]
    [InlineData("")]
    public void FromDotnetBase_VersionNotMajorMinor_IsRefused(string version)
    {
        var error = Assert.Throws<FlyteSharpException>(() => Image.FromDotnetBase(version));

        Assert.Contains("is not of the form 10.0", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void HasDotnetWorker_OnlyForDotnetBaseImages()
    {
        Assert.True(Image.FromDotnetBase().HasDotnetWorker);
        Assert.Equal("9.0", Image.FromDotnetBase("9.0").DotnetVersion);
        Assert.False(Image.FromDebianBase().HasDotnetWorker);
        Assert.Null(Image.FromDebianBase().DotnetVersion);
    }

    [Fact]
    public void Resolve_TheBuildsOwnWorkerFolder_IsFoundNextToFlyteSharp()
    {
        // The MSBuild target of src/FlyteSharp.Worker puts the worker next to FlyteSharp.dll in this test project's output.
        var resolved = Image.FromDotnetBase().Resolve(new ImageResolveOptions(ProjectTree.Config, CopyStyle.All), new FileDigestCache(TimeProvider.System));

        Assert.Contains(".flytesharp/worker/flytesharp-worker.dll", resolved.ContextFiles);
        Assert.Contains(".flytesharp/worker/FlyteSharp.dll", resolved.ContextFiles);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "flytesharp-worker", "flytesharp-worker.runtimeconfig.json")));
    }
}
