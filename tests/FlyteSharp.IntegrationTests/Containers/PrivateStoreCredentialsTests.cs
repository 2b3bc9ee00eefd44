using FlyteSharp.Building;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
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

    [Fact]
    public async Task Run_GlobalReplicaReloadsAfterTheCredentialRotated_FetchesWithTheCallingRunsCredential()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ver.py", "import socket\ndef version(i: int) -> str:\n    return 'v1:' + socket.gethostname()\n");
        const string first = "Y2k6czNjcmV0"; // ci:s3cret
        const string second = "Y2k6bjN3ZXI="; // ci:n3wer
        using var proxy = new FaultyRegistryProxy(registry, [], "Basic " + first);
        var authFile = Path.Combine(project.Root, "auth.json");
        await File.WriteAllTextAsync(authFile, "{\"auths\": {\"" + proxy.Host + "\": {\"auth\": \"" + first + "\"}}}", ct);
        project.Config = project.Config with { StoreUri = $"oci://{proxy.Host}/{project.Repository}-private" };
        var env = new TaskEnvironment("privateglobal", Image.FromDebianBase("3.11").WithCodeBundle(),
            reuse: new ReusePolicy(Replicas: 1, IdleTtl: TimeSpan.FromMinutes(5), Scope: ReuseScope.Global));
        var version = env.PythonTask<int, string>("app.ver:version");
        var options = new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct };
        var previous = Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE");
        Environment.SetEnvironmentVariable("REGISTRY_AUTH_FILE", authFile);
        try
        {
            var v1 = await project.Runtime.Run(version, 1, options);
            var host = (await v1.GetOutputAsync(ct)).Split(':');
            Assert.Equal("v1", host[0]);

            // The registry now takes only the new credential, and the next run (with a code edit) is given it.
            proxy.RequiredAuthorization = "Basic " + second;
            await File.WriteAllTextAsync(authFile, "{\"auths\": {\"" + proxy.Host + "\": {\"auth\": \"" + second + "\"}}}", ct);
            project.WritePython("app/ver.py", "import socket\ndef version(i: int) -> str:\n    return 'v2:' + socket.gethostname()\n");
            var v2 = await project.Runtime.Run(version, 1, options);
            var status = await v2.WaitAsync(ct);

            Assert.True(status == RunStatus.Succeeded, v2.Error?.ToString());
            Assert.Equal("v2:" + host[1], await v2.GetOutputAsync(ct)); // the same container fetched the new code
            List<(DateTimeOffset At, string Method, string Path, string? Authorization)> requests;
            lock (proxy.Requests)
            {
                requests = [.. proxy.Requests];
            }

            Assert.Contains(requests, r => r.Method == "GET" && r.Path.EndsWith("/blobs/" + v2.BundleDigest, StringComparison.Ordinal) && r.Authorization == "Basic " + second);
        }
        finally
        {
            Environment.SetEnvironmentVariable("REGISTRY_AUTH_FILE", previous);
            Assert.Empty(await ReplicaPools.DisposeAllAsync());
        }

        Assert.Empty(Directory.EnumerateFiles(project.Root, "auth-*.json", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Run_PrivateOciStore_DotnetWorkerFetchesTheBundleWithTheCredentialsFile_CredentialNowhereElse()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        const string credential = "Y2k6czNjcmV0"; // ci:s3cret
        const string basic = "Basic " + credential;
        using var proxy = new FaultyRegistryProxy(registry, [], basic);
        var authFile = Path.Combine(project.Root, "auth.json");
        await File.WriteAllTextAsync(authFile, "{\"auths\": {\"" + proxy.Host + "\": {\"auth\": \"" + credential + "\"}}}", ct);
        project.Config = project.Config with { StoreUri = $"oci://{proxy.Host}/{DotnetTaskProject.SharedRepository}-private" };
        var task = (await project.WriteTasks("""
            using FlyteSharp.Images;
            using FlyteSharp.Tasks;

            namespace DotnetTasksApp;

            public static class Tasks
            {
                public static readonly TaskEnvironment Private = new("dotnet-private", Image.FromDotnetBase("10.0"));

                public static readonly FlyteTask<int, int> Triple = Private.Task("triple", async (int n) =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(4)); // long enough for the test to inspect the running container
                    return 3 * n;
                });
            }
            """).BuildAndLoadAsync()).FindTask("triple");
        var previous = Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE");
        Environment.SetEnvironmentVariable("REGISTRY_AUTH_FILE", authFile);
        Run run;
        string inspected = "";
        try
        {
            run = await project.RunAsync(task, new Dictionary<string, string> { ["n"] = "5" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (inspected.Length == 0 && DateTime.UtcNow < deadline)
            {
                foreach (var name in await Podman.ContainersAsync("flytesharp-" + run.Name))
                {
                    var (exit, output) = await Podman.RunAsync("inspect", name);
                    inspected = exit == 0 ? output : inspected;
                }

                await Task.Delay(100, ct);
            }

            Assert.Equal(RunStatus.Succeeded, await run.WaitAsync(ct));
        }
        finally
        {
            Environment.SetEnvironmentVariable("REGISTRY_AUTH_FILE", previous);
        }

        var record = await run.GetRecordAsync(ct);
        Assert.Equal("15", record.OutputsJson);

        // The worker downloaded the .NET bundle through the private store with the credentials ...
        var logs = await run.GetLogsAsync(cancellationToken: ct);
        var bundleLine = Assert.Single(logs, l => l.Stream == "flytesharp" && l.Text.StartsWith(".NET bundle sha256:", StringComparison.Ordinal)).Text;
        var digest = bundleLine.Split(' ')[2];
        List<(DateTimeOffset At, string Method, string Path, string? Authorization)> requests;
        lock (proxy.Requests)
        {
            requests = [.. proxy.Requests];
        }

        var blobGet = Assert.Single(requests, r => r.Method == "GET" && r.Path.EndsWith("/blobs/" + digest, StringComparison.Ordinal));
        Assert.Equal(basic, blobGet.Authorization);

        // ... which reached the container only as a read-only mounted file: not in its configuration (args, env) ...
        Assert.NotEqual("", inspected);
        Assert.Contains("--bundle-auth-file", inspected, StringComparison.Ordinal);
        Assert.Contains("/flytesharp/auth/registry.json", inspected, StringComparison.Ordinal);
        Assert.DoesNotContain(credential, inspected, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", inspected, StringComparison.Ordinal);

        // ... nor in the run's logs and records, and no credentials file is left behind.
        Assert.DoesNotContain(logs, l => l.Text.Contains(credential, StringComparison.Ordinal));
        var database = string.Concat(Directory.EnumerateFiles(Path.GetDirectoryName(project.Config.EffectiveRunDatabase)!, "runs.db*")
            .Select(f => System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f))));
        Assert.Contains(run.Name, database, StringComparison.Ordinal);
        Assert.DoesNotContain(credential, database, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(project.Root, "auth-*.json", SearchOption.AllDirectories));
    }
}

/// <summary>Runs <see cref="PrivateStoreCredentialsTests"/> alone.</summary>
[CollectionDefinition(nameof(PrivateStoreCredentialsTests), DisableParallelization = true)]
public class ProcessEnvironmentCollection;
