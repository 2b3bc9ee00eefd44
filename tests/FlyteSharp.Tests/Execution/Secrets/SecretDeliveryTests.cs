using System.Security.Cryptography;
using System.Text;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Execution.Secrets;

/// <summary>Secrets and env vars of local runs, end to end with the real runner and python3; the value is searched for everywhere a run leaves text.</summary>
public class SecretDeliveryTests : IDisposable
{
    private readonly RunFixture _fixture = new();
    private readonly string _value = "sv-" + Guid.NewGuid().ToString("N");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _fixture.Dispose();
    }

    private void WriteSecret(string key, string value)
    {
        var dir = Path.Combine(_fixture.Config.Home, "secrets");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, key), value + "\n");
    }

    [Fact]
    public async Task Run_PythonTaskWithEnvVarsAndSecrets_GetsThemAndTheValueIsInNoRecord()
    {
        WriteSecret("api_token", _value);
        WriteSecret("cert", _value + "-cert");
        var driverOnly = "FLYTESHARP_SECRET_DRIVER_ONLY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(driverOnly, "not for tasks");
        _fixture.WritePython("app/use.py", """
            import hashlib, os

            def use(n: int) -> str:
                token = os.environ["API_TOKEN"]
                print("token is " + token)
                cert = open(os.environ.get("FLYTESHARP_SECRETS_ROOT", "") + "/etc/app/certs/cert").read()
                leaked = [k for k in os.environ if k.startswith("FLYTESHARP_SECRET_")]
                return "|".join([hashlib.sha256(token.encode()).hexdigest(), cert[-5:], os.environ["LOG_LEVEL"], str(len(leaked))])

            def fail(n: int) -> str:
                raise ValueError("rejected token " + os.environ["API_TOKEN"])
            """);
        var env = new TaskEnvironment("etl", Image.FromDebianBase(), envVars: new Dictionary<string, string> { ["LOG_LEVEL"] = "debug" },
            secrets: [new Secret("api_token"), new Secret("cert", Mount: "/etc/app/certs")]);
        var use = env.PythonTask<int, string>("app.use:use");
        var fail = env.PythonTask<int, string>("app.use:fail");
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var used = await use.InvokeAsync(n);
            try
            {
                await fail.InvokeAsync(n);
            }
            catch (PythonTaskException)
            {
                // Recorded as the child's error; the pipeline goes on.
            }

            return used;
        });

        var run = await _fixture.Runtime.Run(pipeline, 1, _fixture.Options());
        var output = await run.GetOutputAsync(TestContext.Current.CancellationToken);
        Environment.SetEnvironmentVariable(driverOnly, null);

        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_value)));
        Assert.Equal($"{sha}|-cert|debug|0", output);
        var actions = await run.GetActionsAsync(TestContext.Current.CancellationToken);
        Assert.All(actions, a => Assert.Equal("debug", a.EnvVars["LOG_LEVEL"]));
        var logs = await run.GetLogsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(logs, l => l.Text == "token is ***");
        var failed = actions.Single(a => a.Task == "app.use:fail");
        Assert.Equal("rejected token ***", failed.Error!.Message);

        var store = RunStore.Open(_fixture.Config.EffectiveRunDatabase);
        var page = RunPages.RunPage(store.GetRun(run.Name)!, store.GetActions(run.Name), store.GetLogs(run.Name));
        var server = new RunConsoleServer(store, 1);
        var api = server.Route($"/api/runs/{run.Name}").Body;
        var streamed = (await server.StreamAsync($"/runs/{run.Name}/logs", TestContext.Current.CancellationToken))!;
        using var logBody = new MemoryStream();
        await streamed.Write(logBody, TestContext.Current.CancellationToken);
        var logText = Encoding.UTF8.GetString(logBody.ToArray());
        Assert.Contains("token is ***", logText);
        SqliteConnection.ClearAllPools();
        var database = string.Concat(Directory.GetFiles(_fixture.Config.Home, "runs.db*").Select(f => Encoding.UTF8.GetString(File.ReadAllBytes(f))));
        Assert.Contains("token is ***", database);
        foreach (var (place, text) in new[] { ("run store", database), ("run page", page), ("API JSON", api), ("logs", logText) })
        {
            Assert.False(text.Contains(_value, StringComparison.Ordinal), $"the secret's value is in the {place}");
        }

        Assert.False(Directory.Exists(Path.Combine(_fixture.Config.Home, "sandboxes", run.Name)), "the sandbox with the mounted secret file outlived the run");
    }

    [Fact]
    public async Task Run_SecretMissing_ActionFailsBeforeTheTaskStartsNamingSecretAndWhereItLooked()
    {
        _fixture.WritePython("app/use.py", """
            import os

            def use(n: int) -> str:
                print("task body started")
                return os.environ["API_TOKEN"]
            """);
        var env = new TaskEnvironment("etl", Image.FromDebianBase(), secrets: [new Secret("missing_token_" + Guid.NewGuid().ToString("N")[..6], AsEnvVar: "API_TOKEN")]);
        var use = env.PythonTask<int, string>("app.use:use");

        var run = await _fixture.Runtime.Run(use, 1, _fixture.Options());
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));

        var key = env.Secrets[0].Key;
        Assert.Contains($"secret {key} of task environment 'etl' was not found", ex.Message);
        Assert.Contains($"FLYTESHARP_SECRET_{key.ToUpperInvariant()} is not set", ex.Message);
        Assert.Contains(Path.Combine(_fixture.Config.Home, "secrets", key), ex.Message);
        var action = Assert.Single(await run.GetActionsAsync(TestContext.Current.CancellationToken));
        Assert.Equal(ActionStatus.Failed, action.Status);
        Assert.Contains("was not found", action.Error!.Message);
        Assert.DoesNotContain(await run.GetLogsAsync(cancellationToken: TestContext.Current.CancellationToken), l => l.Text.Contains("task body started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_CSharpTask_ReadsSecretAndEnvVarsThroughTaskContext()
    {
        WriteSecret("api_token", _value);
        var env = new TaskEnvironment("etl", Image.FromDebianBase(), envVars: new Dictionary<string, string> { ["REGION"] = "eu" },
            secrets: [new Secret("api_token")]);
        var task = env.Task("greet", (int n) =>
        {
            var context = TaskContext.Current!;
            var secret = context.GetSecret("api_token");
            Console.WriteLine($"using {secret}");
            return Task.FromResult($"{context.EnvVars["REGION"]}:{secret.Length}");
        });

        var run = await _fixture.Runtime.Run(task, 1, _fixture.Options());

        Assert.Equal($"eu:{_value.Length}", await run.GetOutputAsync(TestContext.Current.CancellationToken));
        var logs = await run.GetLogsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(logs, l => l.Text == "using ***");
    }
}
