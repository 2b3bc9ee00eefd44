using FlyteSharp.Bundles;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Bundles;

/// <summary>The .NET code bundle of a real SDK build is a function of the source, not of where it was checked out.</summary>
public class DotnetBundleDeterminismTests
{
    private const string Tasks = """
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public static class Tasks
        {
            public static readonly TaskEnvironment Env = new("det", Image.FromDotnetBase());

            public static readonly FlyteTask<int, int> Double = Env.Task("double", async (int n) =>
            {
                await Task.Yield();
                return n * 2;
            });
        }
        """;

    [Fact]
    public async Task CreateAsync_SameSourceBuiltAtTwoAbsolutePaths_SameDigest_EditChangesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = Path.Combine(Path.GetTempPath(), "flytesharp-it-det-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var first = Path.Combine(root, "checkout-one", "app");
            var second = Path.Combine(root, "somewhere", "much", "deeper", "checkout-two", "app");
            foreach (var directory in new[] { first, second })
            {
                Directory.CreateDirectory(directory);
                await File.WriteAllTextAsync(Path.Combine(directory, "App.csproj"), DotnetTaskProject.ProjectFile(), ct);
                await File.WriteAllTextAsync(Path.Combine(directory, "Tasks.cs"), Tasks, ct);
            }

            var options = new BundleOptions { CacheDirectory = Path.Combine(root, "cache") };
            var a = await DotnetBundler.CreateAsync(Path.Combine(await DotnetTaskProject.BuildAsync(first), "DotnetTasksApp.dll"), options, ct);
            var b = await DotnetBundler.CreateAsync(Path.Combine(await DotnetTaskProject.BuildAsync(second), "DotnetTasksApp.dll"), options, ct);
            await File.WriteAllTextAsync(Path.Combine(second, "Tasks.cs"), Tasks.Replace("n * 2", "n * 3", StringComparison.Ordinal), ct);
            var edited = await DotnetBundler.CreateAsync(Path.Combine(await DotnetTaskProject.BuildAsync(second), "DotnetTasksApp.dll"), options, ct);

            Assert.Equal(a.Digest, b.Digest);
            Assert.Equal(["DotnetTasksApp.deps.json", "DotnetTasksApp.dll", "DotnetTasksApp.pdb"], a.Files);
            Assert.NotEqual(a.Digest, edited.Digest);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
