using System.Text.Json;
using FlyteSharp.Execution;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;

namespace FlyteSharp.IntegrationTests.Dotnet;

/// <summary>
/// C# tasks whose environment has a .NET image run in containers of that image (real podman, real registry, the local
/// .NET base): resources applied, the code as the run's .NET bundle, a .cs edit runs new code in the same image.
/// </summary>
public class ContainerDotnetExecutorTests(DistributionRegistry registry)
{
    internal const string TasksV1 = """
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public record Probe(int Version, bool InContainer, string MemoryLimit, string Greeting, int Doubled);

        public static class Tasks
        {
            public static readonly TaskEnvironment Worker = new("dotnet-worker", Image.FromDotnetBase("10.0"), new Resources(Cpu: "1", Memory: "256Mi"),
                envVars: new Dictionary<string, string> { ["GREETING"] = "hello from the environment" });

            public static readonly FlyteTask<int, Probe> Probe = Worker.Task("probe", async (int n) =>
            {
                await Task.Yield();
                Console.WriteLine($"probing {n}");
                var limit = File.Exists("/sys/fs/cgroup/memory.max") ? File.ReadAllText("/sys/fs/cgroup/memory.max").Trim()
                    : File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? File.ReadAllText("/sys/fs/cgroup/memory/memory.limit_in_bytes").Trim() : "none";
                return new Probe(1, File.Exists("/run/.containerenv"), limit, Environment.GetEnvironmentVariable("GREETING") ?? "", n * 2);
            });
        }
        """;

    [Fact]
    public async Task Run_CSharpTaskOfDotnetImage_RunsInContainerWithResources_EditRunsNewCodeInSameImageWithoutBuild()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        project.WriteTasks(TasksV1);
        var options = new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct };

        var first = await project.RunAsync((await project.BuildAndLoadAsync()).FindTask("probe"), new Dictionary<string, string> { ["n"] = "21" }, options);
        Assert.Equal(RunStatus.Succeeded, await first.WaitAsync(ct));
        var buildsAfterFirst = project.BuildLogs();

        project.WriteTasks(TasksV1.Replace("new Probe(1,", "new Probe(2,", StringComparison.Ordinal));
        var second = await project.RunAsync((await project.BuildAndLoadAsync()).FindTask("probe"), new Dictionary<string, string> { ["n"] = "5" }, options);
        Assert.Equal(RunStatus.Succeeded, await second.WaitAsync(ct));

        using var firstOutput = JsonDocument.Parse((await first.GetRecordAsync(ct)).OutputsJson!);
        using var secondOutput = JsonDocument.Parse((await second.GetRecordAsync(ct)).OutputsJson!);
        Assert.Equal(1, firstOutput.RootElement.GetProperty("version").GetInt32());
        Assert.True(firstOutput.RootElement.GetProperty("in_container").GetBoolean(), "the C# task did not run in a container");
        Assert.Equal((256L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), firstOutput.RootElement.GetProperty("memory_limit").GetString());
        Assert.Equal("hello from the environment", firstOutput.RootElement.GetProperty("greeting").GetString());
        Assert.Equal(42, firstOutput.RootElement.GetProperty("doubled").GetInt32());
        Assert.Equal(2, secondOutput.RootElement.GetProperty("version").GetInt32()); // the edit ran ...
        Assert.Equal(10, secondOutput.RootElement.GetProperty("doubled").GetInt32());
        Assert.Equal(buildsAfterFirst, project.BuildLogs()); // ... in the same image: no build

        var firstAction = Assert.Single(await first.GetActionsAsync(ct));
        var secondAction = Assert.Single(await second.GetActionsAsync(ct));
        Assert.StartsWith($"{registry.Host}/{DotnetTaskProject.SharedRepository}:", firstAction.Image);
        Assert.Equal(firstAction.Image, secondAction.Image); // same image tag
        Assert.Contains("container flytesharp-", firstAction.Host, StringComparison.Ordinal);
        var firstLogs = await first.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(firstLogs, l => l.Text == "probing 21");
        Assert.Contains(firstLogs, l => l.Stream == "flytesharp" && l.Text.StartsWith(".NET bundle sha256:", StringComparison.Ordinal) && l.Text.EndsWith("files from DotnetTasksApp.dll)", StringComparison.Ordinal));
        await first.WaitAsync(ct);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + first.Name));
    }

    private const string Faults = """
        using System.Runtime.InteropServices;
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public record Handle(string Name, Func<int> Make);

        public static class Tasks
        {
            public static readonly TaskEnvironment Worker = new("dotnet-faults", Image.FromDotnetBase("10.0"), new Resources(Memory: "128Mi"));

            public static readonly TaskEnvironment Driver = new("driver", Image.FromDebianBase("3.11"));

            public static readonly FlyteTask<int, int> Sleep = Worker.Task("sleep", async (int seconds) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds));
                return seconds;
            });

            public static readonly FlyteTask<int, int> FanOut = Driver.Task("fan_out", async (int seconds) =>
                (await Task.WhenAll(Sleep.InvokeAsync(seconds), Sleep.InvokeAsync(seconds + 1))).Sum());

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

            public static readonly FlyteTask<int, Handle> Unportable = Worker.Task("unportable", async (int n) =>
            {
                await Task.Yield();
                return new Handle("h", () => n);
            });

            public static readonly FlyteTask<int, int> Throws = Worker.Task<int, int>("throws", async (int n) =>
            {
                await Task.Yield();
                throw new InvalidOperationException($"no good: {n}");
            });

            public static readonly FlyteTask<int, int> Local = Driver.Task("local", async (int n) => await Task.FromResult(n + 1));

            public static readonly FlyteTask<int, int> Parent = Worker.Task("parent", async (int n) => await Sleep.InvokeAsync(0) + n);
        }

        public static class Factory
        {
            // Made at run time, not a static member: the worker cannot find it by name.
            public static TaskDefinition Hidden() => Tasks.Worker.Task("hidden", async (int n) => await Task.FromResult(n));
        }
        """;

    [Fact]
    public async Task Run_Cancelled_StopsEveryContainerOfTheRun()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Faults).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("fan_out"), new Dictionary<string, string> { ["seconds"] = "600" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while ((await Podman.ContainersAsync("flytesharp-" + run.Name)).Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct);
        }

        Assert.Equal(2, (await Podman.ContainersAsync("flytesharp-" + run.Name)).Count);
        run.Cancel();

        Assert.Equal(RunStatus.Cancelled, await run.WaitAsync(ct));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
        var actions = await run.GetActionsAsync(ct);
        Assert.Equal(2, actions.Count(a => a.Task == "sleep" && a.Status == ActionStatus.Cancelled));
    }

    [Fact]
    public async Task Run_TaskOverItsMemoryLimit_FailsWithTheOutOfMemoryMessageOfPythonActions()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Faults).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("hog"), new Dictionary<string, string> { ["megabytes"] = "1024" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        var error = Assert.IsType<Execution.Containers.ContainerOutOfMemoryException>(run.Error);
        Assert.Equal("task hog (environment 'dotnet-faults') ran out of memory: its container was killed by the memory limit (128Mi)", error.Reason);
        Assert.Contains("raise Resources.Memory of environment 'dotnet-faults'", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_TaskThrows_RecordsTheRemoteTypeMessageAndStackTrace()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Faults).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("throws"), new Dictionary<string, string> { ["n"] = "7" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        var error = Assert.IsType<Execution.Dotnet.DotnetTaskException>(run.Error);
        Assert.Equal("System.InvalidOperationException", error.ExceptionType);
        Assert.Equal("no good: 7", error.RemoteMessage);
        Assert.Contains("DotnetTasksApp.Tasks", error.RemoteStackTrace, StringComparison.Ordinal);
        var record = (await run.GetRecordAsync(ct)).Error!;
        Assert.Equal("System.InvalidOperationException", record.Type);
        Assert.Equal("no good: 7", record.Message);
    }

    [Fact]
    public async Task Run_TaskNotFoundByNameInTheBundle_FailsNamingTheTaskAndTheFix()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Faults).BuildAndLoadAsync();
        var hidden = (Tasks.TaskDefinition)tasks.Assembly.GetType("DotnetTasksApp.Factory")!.GetMethod("Hidden")!.Invoke(null, null)!;

        var run = await project.RunAsync(hidden, new Dictionary<string, string> { ["n"] = "1" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        var error = Assert.IsType<Execution.Dotnet.DotnetTaskException>(run.Error);
        Assert.Equal("FlyteSharp.FlyteSharpException", error.ExceptionType);
        Assert.Contains("task 'hidden' is not in the bundle: assembly DotnetTasksApp defines no task named 'hidden'", error.RemoteMessage, StringComparison.Ordinal);
        Assert.Contains("declare it as one", error.RemoteMessage, StringComparison.Ordinal);
        Assert.Contains("the bundle has: ", error.RemoteMessage, StringComparison.Ordinal);
        Assert.Contains("sleep", error.RemoteMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OutputNotCarriableAsJson_FailsNamingTheTypeAndMember()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Faults).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("unportable"), new Dictionary<string, string> { ["n"] = "1" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        var error = Assert.IsType<Execution.Dotnet.DotnetTaskException>(run.Error);
        Assert.Contains("the output of task 'unportable' (Handle) cannot be carried as JSON", error.RemoteMessage, StringComparison.Ordinal);
        Assert.Contains("System.Func`1[System.Int32]", error.RemoteMessage, StringComparison.Ordinal);
        Assert.Contains("$.Make", error.RemoteMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ImageDotnetOlderThanTheProjectsFramework_FailsBeforeAnyContainerNamingBothVersionsAndTheConfigKey()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Faults.Replace("Image.FromDotnetBase(\"10.0\")", "Image.FromDotnetBase(\"9.0\")", StringComparison.Ordinal)).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("sleep"), new Dictionary<string, string> { ["seconds"] = "0" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        var error = Assert.IsType<FlyteSharpException>(run.Error);
        Assert.Contains("task 'sleep' is built for .NET 10.0 (DotnetTasksApp.dll), but environment 'dotnet-faults' has .NET 9.0", error.Reason, StringComparison.Ordinal);
        Assert.Contains("[images] dotnet_base", error.Fix, StringComparison.Ordinal);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
        Assert.Null(Assert.Single(await run.GetActionsAsync(ct)).Host); // never placed: no container started
    }

    [Fact]
    public async Task Run_CSharpTaskWithoutDotnetImageInContainerMode_StaysInTheDriverAndSaysSoOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new DotnetTaskProject(registry);
        var tasks = await project.WriteTasks(Faults.Replace("=> await Task.FromResult(n + 1));", "=> await Task.FromResult(n + 1));\n    public static readonly FlyteTask<int, int> Twice = Driver.Task(\"twice\", async (int n) => await Local.InvokeAsync(await Local.InvokeAsync(n)));", StringComparison.Ordinal)).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("twice"), new Dictionary<string, string> { ["n"] = "1" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(RunStatus.Succeeded, await run.WaitAsync(ct));
        Assert.Equal("3", (await run.GetRecordAsync(ct)).OutputsJson);
        var notes = (await run.GetLogsAsync(cancellationToken: ct)).Where(l => l.Text.Contains("run in the driver", StringComparison.Ordinal)).ToList();
        var note = Assert.Single(notes);
        Assert.Equal("info: C# tasks of environment 'driver' run in the driver: its image is not a .NET image (Image.FromDotnetBase), so container mode cannot run them in their own container", note.Text);
        Assert.All(await run.GetActionsAsync(ct), a => Assert.StartsWith("in-process", a.Host, StringComparison.Ordinal));
    }

    private const string FanOut = """
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public static class Tasks
        {
            public static readonly TaskEnvironment Worker = new("dotnet-fan", Image.FromDotnetBase("10.0"), new Resources(Memory: "256Mi"));

            public static readonly TaskEnvironment Py = new("py", Image.FromDebianBase("3.11").WithCodeBundle());

            public static readonly FlyteTask<int, int> Triple = Py.PythonTask<int, int>("app.ops:triple");

            public static readonly FlyteTask<int, int> Square = Worker.Task("square", async (int n) => await Task.FromResult(n * n));

            public static readonly FlyteTask<int, int> Parent = Worker.Task("parent", async (int n) =>
            {
                var squares = Enumerable.Range(1, n).Select(i => Square.InvokeAsync(i));
                var triples = Enumerable.Range(1, n).Select(i => Triple.InvokeAsync(i));
                return (await Task.WhenAll(squares.Concat(triples))).Sum();
            });
        }
        """;

    [Fact]
    public async Task Run_ContainerisedParentFansOutCSharpAndPythonChildren_ThroughTheControllerApi()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        project.WritePython("app/ops.py", "def triple(x: int) -> int:\n    return 3 * x\n");
        var tasks = await project.WriteTasks(FanOut).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("parent"), new Dictionary<string, string> { ["n"] = "10" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        Assert.Equal((Enumerable.Range(1, 10).Sum(i => i * i) + Enumerable.Range(1, 10).Sum(i => 3 * i)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            (await run.GetRecordAsync(ct)).OutputsJson);
        var actions = await run.GetActionsAsync(ct);
        var parent = Assert.Single(actions, a => a.Task == "parent");
        Assert.Contains("container flytesharp-", parent.Host, StringComparison.Ordinal);
        var children = actions.Where(a => a.ParentId == parent.Id).ToList();
        Assert.Equal(20, children.Count);
        Assert.All(children, c => Assert.Contains("container flytesharp-", c.Host, StringComparison.Ordinal)); // every child in its own container
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }
}
