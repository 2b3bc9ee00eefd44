namespace FlyteSharp.Tests.Cli;

[Collection("examples")]
public sealed class DoctorCommandTests(ExamplesFixture fixture)
{
    [Fact]
    public async Task Doctor_PatternA_WarnsAboutMissingLockAndSaysHowToMakeOne()
    {
        var (code, output, error) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.PatternA, "--no-build", "--config", fixture.ConfigA);
        Assert.True(code == 0, error);
        Assert.Contains("warning [etl]: no uv.lock", output);
        Assert.Contains("warning [ml]: no uv.lock", output);
        Assert.Contains("run `uv lock` in", output);
        Assert.Contains("2 environment(s), 0 error(s), 2 warning(s)", output);
    }

    [Fact]
    public async Task Doctor_PatternB_DoesNotFlagSiblingLibraryOutsideRootDir()
    {
        var (code, output, error) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.PatternB, "--no-build", "--config", fixture.ConfigB);
        Assert.True(code == 0, error);
        Assert.DoesNotContain("WithSourceFolder", output);
        Assert.Contains("1 environment(s), 0 error(s), 1 warning(s)", output);
    }

    [Fact]
    public async Task Doctor_RootDirCoveringSiblingLibrary_FlagsWithSourceFolder()
    {
        var root = Path.Combine(ExamplesFixture.RepoRoot, "examples", "sibling-packages");
        var (code, output, _) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.PatternB, "--no-build", "--config", fixture.ConfigB, "--root-dir", root);
        Assert.Equal(0, code);
        Assert.Contains("warning [my_app]: WithSourceFolder copies", output);
        Assert.Contains("fix: remove WithSourceFolder", output);
    }
}
