using FlyteSharp.Deploy;
using FlyteSharp.Processes;

namespace FlyteSharp.Tests.Deploy;

public class DeployVersionTests
{
    [Theory]
    [InlineData("1.2.3")]
    [InlineData("v2.0.0-rc.1+build.7")]
    [InlineData("4f1c2e9a0b7d")]
    public void Validate_TraceableVersion_ReturnsIt(string version) => Assert.Equal(version, DeployVersion.Validate(version));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Validate_Missing_AsksForVersionAndRecommendsGit(string? version)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => DeployVersion.Validate(version));

        Assert.Contains("version is required", ex.Message);
        Assert.Contains("git", ex.Fix);
    }

    [Theory]
    [InlineData("1.2.3 beta")]
    [InlineData("../etc")]
    [InlineData("-1")]
    public void Validate_BadCharacters_Refuses(string version) =>
        Assert.Throws<FlyteSharpException>(() => DeployVersion.Validate(version));

    [Fact]
    public async Task ResolveAsync_GitCleanTree_ReturnsHeadSha()
    {
        using var repo = await GitRepo.CreateAsync();

        var version = await DeployVersion.ResolveAsync("git", repo.Path, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(await repo.HeadAsync(), version);
        Assert.Equal(40, version.Length);
    }

    [Fact]
    public async Task ResolveAsync_GitDirtyTree_RefusesUnlessAllowed()
    {
        using var repo = await GitRepo.CreateAsync();
        await File.WriteAllTextAsync(Path.Combine(repo.Path, "main.py"), "print('edited')\n", TestContext.Current.CancellationToken);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => DeployVersion.ResolveAsync("git", repo.Path, cancellationToken: TestContext.Current.CancellationToken));
        var dirty = await DeployVersion.ResolveAsync("git", repo.Path, allowDirty: true, TestContext.Current.CancellationToken);

        Assert.Contains("uncommitted change", ex.Message);
        Assert.Contains("--allow-dirty", ex.Fix);
        Assert.Equal(await repo.HeadAsync() + "-dirty", dirty);
    }

    [Fact]
    public async Task ResolveAsync_GitOutsideRepository_SaysToCommit()
    {
        var dir = Directory.CreateTempSubdirectory("flytesharp-nogit-").FullName;
        try
        {
            var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => DeployVersion.ResolveAsync("git", dir, cancellationToken: TestContext.Current.CancellationToken));

            Assert.Contains("git repository", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private sealed class GitRepo : IDisposable
    {
        private GitRepo(string path) => Path = path;

        public string Path { get; }

        public static async Task<GitRepo> CreateAsync()
        {
            var repo = new GitRepo(Directory.CreateTempSubdirectory("flytesharp-git-").FullName);
            await File.WriteAllTextAsync(System.IO.Path.Combine(repo.Path, "main.py"), "print('hi')\n");
            await repo.GitAsync("init", "-q");
            await repo.GitAsync("add", ".");
            await repo.GitAsync("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init");
            return repo;
        }

        public async Task<string> HeadAsync() => (await GitAsync("rev-parse", "HEAD")).Trim();

        public void Dispose() => Directory.Delete(Path, true);

        private async Task<string> GitAsync(params string[] args)
        {
            var result = await CliProcess.RunAsync("git", ["-C", Path, .. args], cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(result.Succeeded, result.Combined);
            return result.StandardOutput;
        }
    }
}
