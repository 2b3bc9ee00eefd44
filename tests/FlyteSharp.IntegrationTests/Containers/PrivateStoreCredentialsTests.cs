using FlyteSharp.Building;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// Sets REGISTRY_AUTH_FILE for the whole process (podman and the library read it from there), so no other test may run
/// at the same time: a container started meanwhile would be handed an auth file that is deleted under it.
/// </summary>
[Collection(nameof(PrivateStoreCredentialsTests))]
public class PrivateStoreCredentialsTests(DistributionRegistry registry)
{
    [Fact]
    public async Task Run_PrivateOciStore_ContainerGetsCredentialsThroughReadOnlyFileOnly()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def triple(x: int) -> int:\n    return 3 * x\n");
        const string basic = "Basic Y2k6czNjcmV0"; // ci:s3cret
        using var proxy = new FaultyRegistryProxy(registry, [], basic);
        var authFile = Path.Combine(project.Root, "auth.json");
        await File.WriteAllTextAsync(authFile, "{\"auths\": {\"" + proxy.Host + "\": {\"auth\": \"Y2k6czNjcmV0\"}}}", ct);
        project.Config = project.Config with { StoreUri = $"oci://{proxy.Host}/{project.Repository}-private" };
        var env = new TaskEnvironment("private", Image.FromDebianBase("3.11").WithCodeBundle());
        var triple = env.PythonTask<int, int>("app.ops:triple");
        var previous = Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE");
        Environment.SetEnvironmentVariable("REGISTRY_AUTH_FILE", authFile);
        string bundleDigest;
        try
        {
            var run = await project.Runtime.Run(triple, 5, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
            Assert.Equal(15, await run.GetOutputAsync(ct));
            await run.WaitAsync(ct); // the auth file goes with the container, which is removed after the output is back
            bundleDigest = run.BundleDigest!;
        }
        finally
        {
            Environment.SetEnvironmentVariable("REGISTRY_AUTH_FILE", previous);
        }

        // The runner inside the container downloaded the blob through the private store with the credentials ...
        List<(DateTimeOffset At, string Method, string Path, string? Authorization)> requests;
        lock (proxy.Requests)
        {
            requests = [.. proxy.Requests];
        }

        var blobGet = Assert.Single(requests, r => r.Method == "GET" && r.Path.EndsWith("/blobs/" + bundleDigest, StringComparison.Ordinal));
        Assert.Equal(basic, blobGet.Authorization);

        // ... and no credentials file is left behind in the run's sandbox.
        Assert.Empty(Directory.EnumerateFiles(project.Root, "auth-*.json", SearchOption.AllDirectories));
    }
}

/// <summary>Runs <see cref="PrivateStoreCredentialsTests"/> alone.</summary>
[CollectionDefinition(nameof(PrivateStoreCredentialsTests), DisableParallelization = true)]
public class ProcessEnvironmentCollection;
