using System.Text.Json;
using FlyteSharp.Projects;

namespace FlyteSharp.Tests.Cli;

[Collection("examples")]
public sealed class ImagesCommandTests(ExamplesFixture fixture)
{
    /// <summary>Set FLYTESHARP_UPDATE_GOLDEN=1 to rewrite the golden files from the current output.</summary>
    private static readonly bool UpdateGolden = Environment.GetEnvironmentVariable("FLYTESHARP_UPDATE_GOLDEN") == "1";

    [Fact]
    public async Task Images_PatternAJson_ListsEtlAndMlWithDifferentTags()
    {
        var (code, output, error) = await ExamplesFixture.RunAsync("images", ExamplesFixture.PatternA, "--json", "--no-build", "--config", fixture.ConfigA);
        Assert.True(code == 0, error);
        var items = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(["etl", "ml"], items.Select(i => i.GetProperty("environment").GetString()));
        var tags = items.Select(i => i.GetProperty("tag").GetString()!).ToList();
        Assert.NotEqual(tags[0], tags[1]);
        Assert.All(items, i => Assert.Equal($"localhost:5000/flytesharp:{i.GetProperty("tag").GetString()}", i.GetProperty("uri").GetString()));
        Assert.All(items, i => Assert.Equal("all", i.GetProperty("copyStyle").GetString()));
    }

    [Fact]
    public async Task Images_NoOptions_PrintsOneLinePerEnvironment()
    {
        var (code, output, _) = await ExamplesFixture.RunAsync("images", ExamplesFixture.PatternA, "--no-build", "--config", fixture.ConfigA);
        Assert.Equal(0, code);
        var lines = output.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Matches("^etl +localhost:5000/flytesharp:[0-9a-f]{32}$", lines[0]);
    }

    [Fact]
    public async Task Images_DockerfileEtl_ContainsOnlyGroupEtl()
    {
        var (code, output, error) = await ExamplesFixture.RunAsync("images", ExamplesFixture.PatternA, "--dockerfile", "etl", "--no-build", "--config", fixture.ConfigA);
        Assert.True(code == 0, error);
        Assert.Contains("--only-group etl", output);
        Assert.DoesNotContain("--only-group ml", output);
    }

    [Fact]
    public async Task Images_ContextEtl_WritesContextWithoutPythonSource()
    {
        var dir = Path.Combine(fixture.TempDir, "ctx-etl");
        var (code, output, error) = await ExamplesFixture.RunAsync("images", ExamplesFixture.PatternA, "--context", "etl", dir, "--no-build", "--config", fixture.ConfigA);
        Assert.True(code == 0, error);
        Assert.Contains("wrote build context of etl", output);
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([".flytesharp/layers/1-uv/pyproject.toml", ".flytesharp/runner/flytesharp_runner.py", "Dockerfile"], files);
        Assert.DoesNotContain(files, f => f.EndsWith(".py", StringComparison.Ordinal) && !f.EndsWith("flytesharp_runner.py", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("A", "etl", "All", "workspace-monorepo.etl.Dockerfile")]
    [InlineData("A", "ml", "All", "workspace-monorepo.ml.Dockerfile")]
    [InlineData("A", "etl", "None", "workspace-monorepo.etl.full-build.Dockerfile")]
    [InlineData("B", "my_app", "All", "sibling-packages.my_app.Dockerfile")]
    [InlineData("B", "my_app", "None", "sibling-packages.my_app.full-build.Dockerfile")]
    [InlineData("W", "reports", "All", "uv-workspace.reports.Dockerfile")]
    [InlineData("W", "pricing", "All", "uv-workspace.pricing.Dockerfile")]
    [InlineData("W", "reports", "None", "uv-workspace.reports.full-build.Dockerfile")]
    public async Task Images_Dockerfile_MatchesGolden(string pattern, string env, string copyStyle, string golden)
    {
        var (project, config) = pattern switch
        {
            "A" => (ExamplesFixture.PatternA, fixture.ConfigA),
            "B" => (ExamplesFixture.PatternB, fixture.ConfigB),
            _ => (ExamplesFixture.UvWorkspace, fixture.ConfigUvWorkspace),
        };
        var (code, output, error) = await ExamplesFixture.RunAsync("images", project, "--dockerfile", env, "--copy-style", copyStyle, "--no-build", "--config", config);
        Assert.True(code == 0, error);
        var path = Path.Combine(SourceLocation.Directory(), "Golden", golden);
        if (UpdateGolden)
        {
            await File.WriteAllTextAsync(path, output, TestContext.Current.CancellationToken);
        }

        Assert.True(File.Exists(path), $"missing golden file {path}; run with FLYTESHARP_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken), output);
    }

    [Fact]
    public async Task Images_UnknownEnvironment_FailsListingKnownOnes()
    {
        var (code, _, error) = await ExamplesFixture.RunAsync("images", ExamplesFixture.PatternA, "--dockerfile", "etx", "--no-build", "--config", fixture.ConfigA);
        Assert.Equal(1, code);
        Assert.Contains("no task environment named 'etx'", error);
        Assert.Contains("etl, ml", error);
    }

    [Fact]
    public async Task Images_ContextIntoNonEmptyDirectory_FailsAndWritesNothing()
    {
        var dir = Directory.CreateDirectory(Path.Combine(fixture.TempDir, "busy")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "mine.txt"), "keep", TestContext.Current.CancellationToken);
        var (code, _, error) = await ExamplesFixture.RunAsync("images", ExamplesFixture.PatternA, "--context", "etl", dir, "--no-build", "--config", fixture.ConfigA);
        Assert.Equal(1, code);
        Assert.Contains("not empty", error);
        Assert.Equal(["mine.txt"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Images_MissingProject_Fails()
    {
        var (code, _, error) = await ExamplesFixture.RunAsync("images", Path.Combine(fixture.TempDir, "nothing-here"), "--no-build");
        Assert.Equal(1, code);
        Assert.Contains("project not found", error);
    }
}
