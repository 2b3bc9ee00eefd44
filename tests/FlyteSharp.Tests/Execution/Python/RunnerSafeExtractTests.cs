namespace FlyteSharp.Tests.Execution.Python;

/// <summary>
/// The runner's physical defences (<c>_safe_extract</c> under the real python3), beyond the entry checks the shared
/// corpus covers: an archive cannot make links, but the destination may hold one that got there some other way, and
/// then no path component — parent directory or the file itself — may be followed through it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RunnerSafeExtractTests
{
    private const string Driver = """
        import io, json, sys, tarfile
        sys.path.insert(0, sys.argv[1])
        import flytesharp_runner as runner
        dest, entry = sys.argv[2], sys.argv[3]
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
            info = tarfile.TarInfo(entry)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
        buffer.seek(0)
        try:
            with tarfile.open(fileobj=buffer) as archive:
                runner._safe_extract(archive, dest)
        except runner.BundleError as exc:
            print(json.dumps({"refused": True, "message": str(exc)}))
        else:
            print(json.dumps({"refused": False, "message": ""}))
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SafeExtract_DestinationHoldsLinkAsParent_RefusesInsteadOfFollowingIt()
    {
        using var work = new TempTree();
        var outside = work.Dir("outside");
        var dest = work.Dir("dest");
        File.CreateSymbolicLink(Path.Combine(dest, "pkg"), outside);

        var result = await RunnerExtraction.RunAsync(Driver, [dest, "pkg/pwned.txt"], Ct);

        Assert.True(result.Refused);
        Assert.Contains("'pkg' is not a real directory inside the bundle directory", result.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task SafeExtract_DestinationHoldsLinkWhereTheFileGoes_RefusesInsteadOfWritingThroughIt()
    {
        using var work = new TempTree();
        var outside = work.Dir("outside");
        var dest = work.Dir("dest");
        File.CreateSymbolicLink(Path.Combine(dest, "ok.py"), Path.Combine(outside, "pwned.txt"));

        var result = await RunnerExtraction.RunAsync(Driver, [dest, "ok.py"], Ct);

        Assert.True(result.Refused);
        Assert.Contains("refused to extract code bundle entry 'ok.py': cannot be written", result.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task SafeExtract_DestinationHoldsFileWhereADirectoryGoes_RefusesWithoutCrashing()
    {
        using var work = new TempTree();
        var dest = work.Dir("dest");
        work.Write("dest/pkg", "a file");

        var result = await RunnerExtraction.RunAsync(Driver, [dest, "pkg/a.py"], Ct);

        Assert.True(result.Refused);
        Assert.Contains("'pkg' is not a real directory inside the bundle directory", result.Message);
        Assert.Equal("a file", await File.ReadAllTextAsync(Path.Combine(dest, "pkg"), Ct));
    }
}
