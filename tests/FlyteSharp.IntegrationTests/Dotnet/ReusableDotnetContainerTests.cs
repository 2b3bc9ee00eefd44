using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Dotnet;

/// <summary>
/// C# tasks of environments with a <see cref="ReusePolicy"/> in container mode, on real podman with the local .NET base:
/// calls share warm containers running the worker's serve loop; a crashed replica is replaced and the action retried;
/// idle TTL and run end remove them; a new bundle digest is served in the same container; nested calls reach the driver.
/// </summary>
public class ReusableDotnetContainerTests(DistributionRegistry registry)
{
    // The container's hostname is the first 12 hex digits of its ID (podman's default); the pid names the worker process.
    private const string Tasks = """
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public static class Tasks
        {
            private static int _calls;

            public static readonly TaskEnvironment Worker = new("dotnet-reuse", Image.FromDotnetBase("10.0"), new Resources(Memory: "128Mi"),
                reuse: new ReusePolicy(Replicas: 2, IdleTtl: TimeSpan.FromMinutes(5)));

            public static readonly FlyteTask<int, string> Who = Worker.Task("who", async (int i) =>
            {
                await Task.Yield();
                Console.WriteLine($"who {i}");
                return $"v1:{Environment.MachineName}:{Environment.ProcessId}:{Interlocked.Increment(ref _calls)}";
            });

            public static readonly FlyteTask<int, string> Doom = Worker.Task("doom", async (int i) =>
            {
                await File.WriteAllTextAsync("/tmp/doomed", "");
                return Environment.MachineName;
            });

            public static readonly FlyteTask<int, string> CrashIfDoomed = Worker.Task("crash_if_doomed", async (int i) =>
            {
                await Task.Yield();
                if (File.Exists("/tmp/doomed"))
                {
                    Environment.FailFast("the replica dies mid-action");
                }

                return Environment.MachineName;
            }, new TaskOptions { Retries = 1, RetryBackoff = TimeSpan.Zero });

            public static readonly FlyteTask<int, string> Nested = Worker.Task("nested", async (int n) =>
                $"{Environment.MachineName}|{await Who.InvokeAsync(n)}");

            public static readonly FlyteTask<int, int> Hog = Worker.Task("hog", async (int megabytes) =>
            {
                await Task.Yield();
                var blocks = new List<byte[]>();
                for (var i = 0; i < megabytes; i++)
                {
                    var block = new byte[1 << 20];
                    Array.Fill(block, (byte)1);
                    blocks.Add(block);
                }

                return blocks.Count;
            });
        }
        """;

    private static readonly TaskEnvironment Driver = new("driver", Image.FromDebianBase("3.11"));

    [Fact]
    public async Task Run_SequentialCSharpCalls_ShareOneContainerAndOneWorkerAndRunEndRemovesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var who = (FlyteTask<int, string>)(await project.WriteTasks(Tasks).BuildAndLoadAsync()).FindTask("who");
        var runName = "dotnet-reuse-seq-" + Guid.NewGuid().ToString("N")[..8];
        var seenByPodman = new List<string>();
        var pipeline = Driver.Task("pipeline", async (int n) =>
        {
            var results = new List<string>();
            for (var i = 0; i < n; i++)
            {
                results.Add(await who.InvokeAsync(i));
            }

            seenByPodman.AddRange(await ContainerIdsAsync(runName));
            return string.Join(",", results);
        });

        var run = await project.Runtime.Run(pipeline, 4, new RunOptions { Mode = ExecutionMode.Container, Name = runName, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        var calls = (await run.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')).ToArray();
        Assert.Equal(4, calls.Length);
        Assert.Single(calls.Select(c => c[1]).Distinct());                  // one container
        Assert.Single(calls.Select(c => c[2]).Distinct());                  // one worker process
        Assert.Equal(["1", "2", "3", "4"], calls.Select(c => c[3]));        // its static state carried over: the assembly stayed loaded
        var id = Assert.Single(seenByPodman);
        Assert.StartsWith(calls[0][1], id, StringComparison.Ordinal);
        var actions = (await run.GetActionsAsync(ct)).Where(a => a.Task == "who").ToArray();
        Assert.Equal(4, actions.Length);
        Assert.All(actions, a => Assert.Contains("(reusable, call ", a.Host, StringComparison.Ordinal));
        var logs = await run.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(logs, l => l.Text == "who 2" && l.Stream == "stdout"); // each call's console output reaches its action's log
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + runName));
    }

    [Fact]
    public async Task Run_ReplicaDiesMidAction_RetriedOnANewReplica()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Tasks.Replace("Replicas: 2", "Replicas: 1", StringComparison.Ordinal)).BuildAndLoadAsync();
        var doom = (FlyteTask<int, string>)tasks.FindTask("doom");
        var crash = (FlyteTask<int, string>)tasks.FindTask("crash_if_doomed");
        var pipeline = Driver.Task("pipeline", async (int n) => await doom.InvokeAsync(n) + "," + await crash.InvokeAsync(n));

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        var hosts = (await run.GetOutputAsync(ct)).Split(',');
        Assert.NotEqual(hosts[0], hosts[1]); // the retry ran in a fresh container
        var crashed = Assert.Single(await run.GetActionsAsync(ct), a => a.Task == "crash_if_doomed");
        Assert.Equal(2, crashed.Attempts);
        var logs = await run.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(logs, l => l.Text.Contains("attempt 1 of 2 failed: DotnetTaskException", StringComparison.Ordinal) && l.Text.Contains("exited with code", StringComparison.Ordinal));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_ReplicaIdleLongerThanTtl_IsRemovedAndTheNextCallGetsANewOne()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var who = (FlyteTask<int, string>)(await project.WriteTasks(Tasks
            .Replace("Replicas: 2", "Replicas: 1", StringComparison.Ordinal)
            .Replace("TimeSpan.FromMinutes(5)", "TimeSpan.FromSeconds(1)", StringComparison.Ordinal)).BuildAndLoadAsync()).FindTask("who");
        var runName = "dotnet-reuse-ttl-" + Guid.NewGuid().ToString("N")[..8];
        int aliveAfterCalls = -1, aliveAfterIdle = -1;
        var pipeline = Driver.Task("pipeline", async (int n) =>
        {
            var first = await who.InvokeAsync(1);
            var second = await who.InvokeAsync(2); // within the TTL: the same replica
            aliveAfterCalls = (await ContainerIdsAsync(runName)).Count;
            await Task.Delay(TimeSpan.FromSeconds(6));
            aliveAfterIdle = (await ContainerIdsAsync(runName)).Count;
            return first + "," + second + "," + await who.InvokeAsync(3);
        });

        var run = await project.Runtime.Run(pipeline, 0, new RunOptions { Mode = ExecutionMode.Container, Name = runName, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        Assert.Equal(1, aliveAfterCalls);
        Assert.Equal(0, aliveAfterIdle);
        var hosts = (await run.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')[1]).ToArray();
        Assert.Equal(hosts[0], hosts[1]);
        Assert.NotEqual(hosts[0], hosts[2]);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + runName));
    }

    [Fact]
    public async Task Execute_CsEditWithTheSameImage_ReloadsTheNewAssembliesInTheSameContainerAndProcess()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var v1 = (await project.WriteTasks(Tasks).BuildAndLoadAsync()).FindTask("who");
        var v2 = (await project.WriteTasks(Tasks.Replace("$\"v1:", "$\"v2:", StringComparison.Ordinal)).BuildAndLoadAsync()).FindTask("who");
        var sandbox = Directory.CreateDirectory(Path.Combine(project.Root, "sandbox")).FullName;
        var runName = "dotnet-reuse-edit-" + Guid.NewGuid().ToString("N")[..8];
        var executor = ContainerDotnetExecutor.Create(new DotnetExecutorContext(runName, sandbox, project.Config, new RunSecrets(project.Config)));
        var placed = new List<string>();
        var logs = new List<string>();
        string[] outputs;
        try
        {
            // One driver, one environment, an edit between two calls: the second call brings another bundle digest.
            var a = await executor.ExecuteAsync(Request(v1, "a1", placed, logs), ct);
            var b = await executor.ExecuteAsync(Request(v1, "a2", placed, logs), ct);
            var c = await executor.ExecuteAsync(Request(v2, "a3", placed, logs), ct);
            outputs = [.. new[] { a, b, c }.Select(r => System.Text.Json.JsonSerializer.Deserialize<string>(r.OutputJson ?? throw new InvalidOperationException(r.Error?.Message))!)];
        }
        finally
        {
            await executor.DisposeAsync();
        }

        var calls = outputs.Select(o => o.Split(':')).ToArray();
        Assert.Equal(["v1", "v1", "v2"], calls.Select(c => c[0]));          // the edit took effect
        Assert.Single(calls.Select(c => c[1]).Distinct());                  // in the same container
        Assert.Single(calls.Select(c => c[2]).Distinct());                  // and the same worker process (a new load context, not a new process)
        Assert.Equal(["1", "2", "1"], calls.Select(c => c[3]));             // the new assembly's statics start afresh
        Assert.Single(placed.Select(p => p.Split(' ')[2]).Distinct());
        Assert.Equal(2, logs.Where(l => l.StartsWith(".NET bundle sha256:", StringComparison.Ordinal)).Distinct().Count()); // two digests
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + runName));
    }

    [Fact]
    public async Task Run_NestedCallFromATaskOnAReplica_RunsAsAChildActionOnAnotherReplica()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("nested"), new Dictionary<string, string> { ["n"] = "7" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        var output = System.Text.Json.JsonSerializer.Deserialize<string>((await run.GetRecordAsync(ct)).OutputsJson!)!;
        var (parentHost, child) = (output.Split('|')[0], output.Split('|')[1].Split(':'));
        Assert.Equal("v1", child[0]);
        Assert.NotEqual(parentHost, child[1]); // the parent's replica was busy: the child got the second one
        var actions = await run.GetActionsAsync(ct);
        Assert.Equal(2, actions.Count);
        Assert.All(actions, a => Assert.Contains("(reusable, call 1;", a.Host, StringComparison.Ordinal));
        Assert.Contains(actions, a => a.Task == "who" && a.ParentId is not null);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_NestedCallWhileItsCallerHoldsTheOnlyReplica_RunsInAContainerOfItsOwnInsteadOfWaitingForever()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Tasks.Replace("Replicas: 2", "Replicas: 1", StringComparison.Ordinal)).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("nested"), new Dictionary<string, string> { ["n"] = "7" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        var actions = await run.GetActionsAsync(ct);
        Assert.Contains("(reusable, call 1;", Assert.Single(actions, a => a.Task == "nested").Host, StringComparison.Ordinal);
        Assert.DoesNotContain("reusable", Assert.Single(actions, a => a.Task == "who").Host, StringComparison.Ordinal);
        var logs = await run.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(logs, l => l.Text.StartsWith("every replica of environment 'dotnet-reuse' is in use and a caller of task 'who' holds one", StringComparison.Ordinal));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_TaskOverItsMemoryLimitOnAReplica_FailsWithTheOutOfMemoryMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("hog"), new Dictionary<string, string> { ["megabytes"] = "1024" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        var error = Assert.IsType<ContainerOutOfMemoryException>(run.Error);
        Assert.Equal("task hog (environment 'dotnet-reuse') ran out of memory: its container was killed by the memory limit (128Mi)", error.Reason);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_CsEditBetweenRunsOfAGlobalEnvironment_ReusesTheContainersWithTheNewCodeAndNestedCallsReachTheNewRun()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var global = Tasks.Replace("IdleTtl: TimeSpan.FromMinutes(5)", "IdleTtl: TimeSpan.FromMinutes(5), Scope: ReuseScope.Global", StringComparison.Ordinal);
        var v1 = (await project.WriteTasks(global).BuildAndLoadAsync()).FindTask("nested");
        var v2 = (await project.WriteTasks(global.Replace("$\"v1:", "$\"v2:", StringComparison.Ordinal)).BuildAndLoadAsync()).FindTask("nested");
        var options = new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct };
        var first = await project.RunAsync(v1, new Dictionary<string, string> { ["n"] = "1" }, options);
        Assert.True(await first.WaitAsync(ct) == RunStatus.Succeeded, first.Error?.ToString());
        try
        {
            var kept = await ContainerIdsAsync(first.Name);
            var second = await project.RunAsync(v2, new Dictionary<string, string> { ["n"] = "2" }, options);
            Assert.True(await second.WaitAsync(ct) == RunStatus.Succeeded, second.Error?.ToString());

            Assert.Equal(2, kept.Count); // the shared replicas outlived their first run
            string[] Parse(string output) => [output.Split('|')[0], .. output.Split('|')[1].Split(':')];
            var a = Parse(System.Text.Json.JsonSerializer.Deserialize<string>((await first.GetRecordAsync(ct)).OutputsJson!)!);
            var b = Parse(System.Text.Json.JsonSerializer.Deserialize<string>((await second.GetRecordAsync(ct)).OutputsJson!)!);
            Assert.Equal(("v1", "v2"), (a[1], b[1]));                                  // the edit took effect, in the child called through the second run's controller
            Assert.Equal(new[] { a[0], a[2] }.Order(), new[] { b[0], b[2] }.Order());   // on the same two containers
            Assert.All(kept, id => Assert.True(id.StartsWith(a[0], StringComparison.Ordinal) || id.StartsWith(a[2], StringComparison.Ordinal)));
            Assert.Equal("1", b[4]);                                                   // the new assembly's statics start afresh
            Assert.All(await second.GetActionsAsync(ct), x => Assert.Contains("(reusable, call 2;", x.Host, StringComparison.Ordinal));
        }
        finally
        {
            Assert.Empty(await ReusableDotnetEnvironments.DisposeGlobalAsync());
        }

        Assert.Empty(await ContainerIdsAsync(first.Name));
    }

    private static DotnetTaskRequest Request(TaskDefinition task, string actionId, List<string> placed, List<string> logs) =>
        new(task, "{\"i\": 1}", null, actionId, (_, line) => { lock (logs) { logs.Add(line); } }, (_, host) => placed.Add(host));

    private static async Task<IReadOnlyList<string>> ContainerIdsAsync(string runName)
    {
        var (_, output) = await Podman.RunAsync("ps", "--all", "--no-trunc", "--filter", $"label={ContainerLabels.Run}={runName}", "--format", "{{.ID}}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
