using System.Text.Json.Nodes;
using FlyteSharp.Cli;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Bundles;

/// <summary>The <c>flytesharp bundle</c> command as a real process, with its own FLYTESHARP_HOME, against the real registry.</summary>
public sealed class BundleCommandTests(DistributionRegistry registry) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "flytesharp-cli-" + Guid.NewGuid().ToString("N"))).FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var env = new Dictionary<string, string?> { ["FLYTESHARP_HOME"] = Path.Combine(_work, "home"), ["FLYTESHARP_CONFIG"] = null };
        return await ChildProcess.RunAsync("dotnet", [typeof(FlyteCli).Assembly.Location, .. args], env, _work, cancellationToken: Ct);
    }

    private string MakeTree()
    {
        var root = Path.Combine(_work, "src");
        Directory.CreateDirectory(Path.Combine(root, "app", "__pycache__"));
        File.WriteAllText(Path.Combine(root, "app", "__init__.py"), "");
        File.WriteAllText(Path.Combine(root, "app", "tasks.py"), "def hello():\n    return 'hi'\n");
        File.WriteAllText(Path.Combine(root, "app", "__pycache__", "tasks.cpython-311.pyc"), "x");
        return root;
    }

    [Fact]
    public async Task Bundle_JsonToRegistryThenExtract_RoundTrips()
    {
        var root = MakeTree();
        var (code, output, error) = await RunAsync("bundle", root, "--json", "--store", $"oci://{registry.Host}/flytesharp/cli", "--output", Path.Combine(_work, "out.tar.gz"));
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!;
        var digest = json["digest"]!.GetValue<string>();
        Assert.Equal(2, json["files"]!.GetValue<int>());
        Assert.Equal(new FileInfo(Path.Combine(_work, "out.tar.gz")).Length, json["bytes"]!.GetValue<long>());
        Assert.Equal($"oci://{registry.Host}/flytesharp/cli@{digest}", json["uri"]!.GetValue<string>());

        (code, output, error) = await RunAsync("bundle", "extract", json["uri"]!.GetValue<string>(), Path.Combine(_work, "dest"));
        Assert.True(code == 0, error);
        Assert.Contains(digest, output);
        Assert.Equal("def hello():\n    return 'hi'\n", await File.ReadAllTextAsync(Path.Combine(_work, "dest", "app", "tasks.py"), Ct));
        Assert.False(Directory.Exists(Path.Combine(_work, "dest", "app", "__pycache__")));

        (code, output, _) = await RunAsync("bundle", "extract", Path.Combine(_work, "out.tar.gz"), Path.Combine(_work, "dest2"), "--digest", digest);
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task BundleList_ReincludedCredential_ListsWhatWouldShipAndWarnsWithoutStoring()
    {
        var root = MakeTree();
        File.WriteAllText(Path.Combine(root, ".env"), "TOKEN=left-out");
        File.WriteAllText(Path.Combine(root, "app", "deploy.pem"), "-----BEGIN PRIVATE KEY-----");
        File.WriteAllText(Path.Combine(root, "app", ".flyteignore"), "!deploy.pem\n");

        var (code, output, error) = await RunAsync("bundle", root, "--list");
        Assert.True(code == 0, error);
        Assert.Contains("app/deploy.pem", output);
        Assert.Contains("app/tasks.py", output);
        Assert.DoesNotContain(".env", output);
        Assert.Contains("4 file(s)", output);
        Assert.Contains("warning: 'app/deploy.pem' is a credential file", error);
        Assert.Contains("'!deploy.pem'", error);
        Assert.False(Directory.Exists(Path.Combine(_work, "home", "store")), "--list must not build or store a bundle");

        (code, output, error) = await RunAsync("bundle", root, "--list", "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!;
        Assert.Equal(["app/.flyteignore", "app/__init__.py", "app/deploy.pem", "app/tasks.py"],
            json["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()).ToArray());
        Assert.Equal(4, json["fileCount"]!.GetValue<int>());
        Assert.Contains("app/deploy.pem", Assert.Single(json["warnings"]!.AsArray())!.GetValue<string>());

        // The same warning when the bundle is really built.
        (code, _, error) = await RunAsync("bundle", root, "--store", "file://" + Path.Combine(_work, "store"));
        Assert.True(code == 0, error);
        Assert.Contains("warning: 'app/deploy.pem' is a credential file", error);
    }

    [Fact]
    public async Task BundleExtract_Help_ShowsItsOwnUsageWithoutRootDirAndBothFormsStillRun()
    {
        var (code, help, error) = await RunAsync("bundle", "extract", "--help");
        Assert.True(code == 0, error);
        Assert.Contains("Usage:\n  flytesharp bundle extract <uri-or-file> <dest> [options]\n", help);
        Assert.Contains("<uri-or-file>", help);
        Assert.Contains("--digest <digest>", help);
        Assert.Contains("-?, -h, --help", help);
        Assert.DoesNotContain("root_dir", help);

        (code, help, error) = await RunAsync("bundle", "--help");
        Assert.True(code == 0, error);
        Assert.Contains("flytesharp bundle <root_dir> [command] [options]", help);

        var root = MakeTree();
        var store = Path.Combine(_work, "store");
        (code, var output, error) = await RunAsync("bundle", root, "--json", "--store", "file://" + store);
        Assert.True(code == 0, error);
        var uri = JsonNode.Parse(output)!["uri"]!.GetValue<string>();
        (code, output, error) = await RunAsync("bundle", "extract", uri, Path.Combine(_work, "dest"));
        Assert.True(code == 0, error);
        Assert.StartsWith("extracted sha256:", output);
        Assert.True(File.Exists(Path.Combine(_work, "dest", "app", "tasks.py")));
    }

    [Fact]
    public async Task Bundle_DefaultStore_PrintsFileUriAndTextSummary()
    {
        var root = MakeTree();
        var (code, output, error) = await RunAsync("bundle", root);
        Assert.True(code == 0, error);
        Assert.Matches(@"digest  sha256:[0-9a-f]{64}", output);
        Assert.Contains("files   2", output);
        Assert.Contains($"uri     file://{Path.Combine(_work, "home", "store")}/blobs/sha256/", output);
        Assert.DoesNotContain("bundling", output); // no progress when stdout is not a terminal
    }

    [Fact]
    public async Task BundleExtract_EightProcessesIntoOneDestination_AllSucceed()
    {
        var root = MakeTree();
        var (code, output, error) = await RunAsync("bundle", root, "--json");
        Assert.True(code == 0, error);
        var uri = JsonNode.Parse(output)!["uri"]!.GetValue<string>();
        var dest = Path.Combine(_work, "shared");

        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RunAsync("bundle", "extract", uri, dest)));

        Assert.All(runs, r => Assert.True(r.Code == 0, r.Err));
        Assert.True(File.Exists(Path.Combine(dest, "app", "tasks.py")));
        Assert.DoesNotContain(Directory.EnumerateDirectories(_work), d => Path.GetFileName(d).Contains(".tmp-"));
    }

    [Fact]
    public async Task Bundle_MissingRootDir_ExitsNonZeroWithError()
    {
        var (code, _, error) = await RunAsync("bundle", Path.Combine(_work, "nope"));
        Assert.Equal(1, code);
        Assert.Contains("root_dir does not exist", error);
    }

    [Fact]
    public async Task Bundle_UnknownStoreScheme_ExitsNonZeroWithError()
    {
        var (code, _, error) = await RunAsync("bundle", MakeTree(), "--store", "s3://bucket/x");
        Assert.Equal(1, code);
        Assert.Contains("unknown store URI scheme", error);
    }

    [Fact]
    public async Task Bundle_CredentialsInStoreUri_RefusedWithoutPrintingThemAndNothingSent()
    {
        var (code, output, error) = await RunAsync("bundle", MakeTree(), "--store", $"oci://alice:s3cr3t-pw@{registry.Host}/flytesharp/cli");

        Assert.Equal(1, code);
        Assert.Contains($"the store URI 'oci://***@{registry.Host}/flytesharp/cli' holds credentials", error);
        Assert.Contains($"podman login {registry.Host}", error);
        Assert.DoesNotContain("s3cr3t-pw", output + error);
        Assert.DoesNotContain("alice", output + error);
    }

    [Fact]
    public async Task Bundle_RootDirSymlinkLoop_SaysSymlinkLoop()
    {
        var loop = Path.Combine(_work, "loop");
        File.CreateSymbolicLink(loop, loop);

        var (code, _, error) = await RunAsync("bundle", loop);

        Assert.Equal(1, code);
        Assert.Contains("root_dir is a symlink loop", error);
        Assert.DoesNotContain("not a directory", error);
    }

    [Fact]
    public async Task Bundle_OutputIsAFifo_RefusedBeforeBundlingAndLeftInPlace()
    {
        var fifo = Path.Combine(_work, "pipe");
        var (mkfifo, _, mkfifoError) = await ChildProcess.RunAsync("mkfifo", [fifo], cancellationToken: Ct);
        Assert.True(mkfifo == 0, mkfifoError);

        var (code, output, error) = await RunAsync("bundle", MakeTree(), "--output", fifo);

        Assert.Equal(1, code);
        Assert.Contains("--output is a device, FIFO or socket", error);
        Assert.Empty(output);
        Assert.Equal(0, (await ChildProcess.RunAsync("test", ["-p", fifo], cancellationToken: Ct)).Code); // still a FIFO
        Assert.False(Directory.Exists(Path.Combine(_work, "home", "store")));
    }

    [Fact]
    public async Task Bundle_OutputIsADirectory_RefusedWithFix()
    {
        var (code, _, error) = await RunAsync("bundle", MakeTree(), "--output", _work);

        Assert.Equal(1, code);
        Assert.Contains("--output is a directory", error);
        Assert.DoesNotContain("internal error", error);
    }

    [Fact]
    public async Task Bundle_FileNameWithBackslash_ExitsNonZeroNamingTheFileAndStoresNothing()
    {
        var root = MakeTree();
        var odd = Path.Combine(root, "app", @"win\path.py");
        File.WriteAllText(odd, "X = 1\n");

        var (code, output, error) = await RunAsync("bundle", root);

        Assert.Equal(1, code);
        Assert.Contains(odd, error);
        Assert.Contains("backslash in the path", error);
        Assert.Contains(@"exclude it with the line 'win\\path.py' in .flyteignore", error);
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("sha256:", output);
        Assert.False(Directory.Exists(Path.Combine(_work, "home", "store", "blobs")));
    }

    [Fact]
    public async Task BundleExtract_FileThenDirectoryOfSameName_ExitsWithTheRefusalNotACrash()
    {
        var archive = Path.Combine(_work, "clash.tar.gz");
        using (var file = File.Create(archive))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        using (var tar = new System.Formats.Tar.TarWriter(gzip, System.Formats.Tar.TarEntryFormat.Gnu))
        {
            tar.WriteEntry(new System.Formats.Tar.GnuTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "app") { DataStream = new MemoryStream("x"u8.ToArray()) });
            tar.WriteEntry(new System.Formats.Tar.GnuTarEntry(System.Formats.Tar.TarEntryType.Directory, "app/"));
        }

        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(archive, Ct)));

        var (code, _, error) = await RunAsync("bundle", "extract", archive, Path.Combine(_work, "dest"), "--digest", digest);

        Assert.Equal(1, code);
        Assert.Contains("refused to extract entry 'app/': a file of that name came before it; nothing was extracted", error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(Path.Combine(_work, "dest")));
    }
}
