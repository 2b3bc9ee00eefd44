using System.Security.Cryptography;
using System.Text;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// Secrets in container mode with real podman: the task gets the value (as an env var and as a mounted file), and the
/// value is searched for in <c>podman inspect</c> of the running container, the image's layers, the run store, the logs,
/// the console page and the API JSON.
/// </summary>
public class ContainerSecretTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage; // the fixture builds the local base image the Debian base resolves to

    [Fact]
    public async Task Run_ContainerTaskWithSecrets_TaskGetsValueWhichIsInNoInspectLayerStoreLogPageOrApi()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var value = "sv-" + Guid.NewGuid().ToString("N");
        var secrets = Path.Combine(project.Config.Home, "secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "api_token"), value + "\n", ct);
        await File.WriteAllTextAsync(Path.Combine(secrets, "cert"), value + "-cert", ct);
        project.WritePython("app/use.py", """
            import hashlib, os, time

            def use(seconds: float) -> str:
                token = os.environ["API_TOKEN"]
                print("token is " + token)
                cert = open("/etc/app/certs/cert").read()
                time.sleep(seconds)  # the test inspects the running container meanwhile
                return "|".join([hashlib.sha256(token.encode()).hexdigest(), cert[-5:], os.environ["LOG_LEVEL"]])
            """);
        var env = new TaskEnvironment("sec", Image.FromDebianBase("3.11").WithCodeBundle(),
            envVars: new Dictionary<string, string> { ["LOG_LEVEL"] = "debug" },
            secrets: [new Secret("api_token"), new Secret("cert", Mount: "/etc/app/certs")]);
        var use = env.PythonTask<double, string>("app.use:use");

        var run = await project.Runtime.Run(use, 8.0, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var inspect = await InspectRunningContainerAsync(run.Name, ct);
        var output = await run.GetOutputAsync(ct);

        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
        Assert.Equal($"{sha}|-cert|debug", output);
        Assert.Contains("LOG_LEVEL=debug", inspect); // the inspect output is the real container's
        Assert.Contains("/etc/app/certs/cert", inspect);
        Assert.DoesNotContain(value, inspect, StringComparison.Ordinal);

        var action = Assert.Single(await run.GetActionsAsync(ct));
        Assert.NotNull(action.Image);
        Assert.StartsWith("podman container flytesharp-", action.Host, StringComparison.Ordinal);
        var archive = Path.Combine(project.Root, "image.tar");
        var (saved, saveOutput) = await Podman.RunAsync("image", "save", "--output", archive, action.Image!);
        Assert.True(saved == 0, saveOutput);
        Assert.False(await FileContainsAsync(archive, Encoding.UTF8.GetBytes(value)), "the secret's value is in the image's layers");

        var logs = await run.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(logs, l => l.Text == "token is ***");
        var store = RunStore.Open(project.Config.EffectiveRunDatabase);
        var page = RunPages.RunPage(store.GetRun(run.Name)!, store.GetActions(run.Name), store.GetLogs(run.Name));
        var api = new RunConsoleServer(store, 1).Route($"/api/runs/{run.Name}").Body;
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(project.Config.Home, "runs.db*"))
        {
            Assert.False(await FileContainsAsync(file, Encoding.UTF8.GetBytes(value)), $"the secret's value is in {file}");
        }

        Assert.DoesNotContain(value, page, StringComparison.Ordinal);
        Assert.DoesNotContain(value, api, StringComparison.Ordinal);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_ContainerSecretMissing_FailsBeforeAnyContainerStarts()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/use.py", "def use(n: int) -> int:\n    return n\n");
        var env = new TaskEnvironment("sec", Image.FromDebianBase("3.11").WithCodeBundle(), secrets: [new Secret("nowhere")]);
        var use = env.PythonTask<int, int>("app.use:use");

        var run = await project.Runtime.Run(use, 1, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => run.GetOutputAsync(ct));

        Assert.Contains("secret nowhere of task environment 'sec' was not found", ex.Message);
        Assert.Contains(Path.Combine(project.Config.Home, "secrets", "nowhere"), ex.Message);
        Assert.Null(Assert.Single(await run.GetActionsAsync(ct)).Host); // never placed: no container was started
    }

    private static async Task<string> InspectRunningContainerAsync(string run, CancellationToken ct)
    {
        for (var i = 0; i < 600; i++)
        {
            var (_, ids) = await Podman.RunAsync("ps", "--filter", $"label=flytesharp.run={run}", "--format", "{{.ID}}");
            var id = ids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
            if (id is not null)
            {
                var (code, inspect) = await Podman.RunAsync("inspect", id);
                if (code == 0)
                {
                    return inspect;
                }
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"no running container of run {run} appeared");
    }

    private static async Task<bool> FileContainsAsync(string path, byte[] needle)
    {
        await using var stream = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        var carry = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer.AsMemory(carry, buffer.Length - carry))) > 0)
        {
            var filled = carry + read;
            if (buffer.AsSpan(0, filled).IndexOf(needle) >= 0)
            {
                return true;
            }

            carry = Math.Min(needle.Length - 1, filled);
            buffer.AsSpan(filled - carry, carry).CopyTo(buffer);
        }

        return false;
    }
}
