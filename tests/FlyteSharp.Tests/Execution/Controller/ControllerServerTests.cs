using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using FlyteSharp.Controller;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Controller;

/// <summary>End to end: real runs, the real controller server on a real Unix socket, a parent calling children through it.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class ControllerServerTests : IDisposable
{
    private readonly RunFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static TaskEnvironment NewEnv(string name = "etl") => new(name, Image.FromDebianBase());

    [Fact]
    public async Task CallChild_FanOutOf20CSharpAndPythonChildren_RecordsThemUnderTheParentWithinTheConcurrencyBound()
    {
        _fixture.WritePython("app/ops.py", """
            import time

            def square(n: int) -> int:
                time.sleep(0.05)
                return n * n
            """);
        var env = NewEnv();
        var running = 0;
        var peak = 0;
        var triple = env.Task("triple", async (int n) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            await Task.Delay(100);
            Interlocked.Decrement(ref running);
            return n * 3;
        });
        var square = ScannedTasks.Square;
        var parent = ContainerisedParent.Define(env, async p =>
        {
            var csharp = Enumerable.Range(1, 10).Select(i => triple.InvokeAsync(i));
            var py = Enumerable.Range(1, 10).Select(i => square.InvokeAsync(i));
            var results = await Task.WhenAll(csharp.Concat(py));
            return string.Join(",", results);
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options(maxConcurrency: 3));
        var output = await run.GetOutputAsync(Ct);

        Assert.Equal("3,6,9,12,15,18,21,24,27,30,1,4,9,16,25,36,49,64,81,100", output);
        var actions = await run.GetActionsAsync(Ct);
        var root = Assert.Single(actions, a => a.ParentId is null);
        var children = actions.Where(a => a.ParentId == root.Id).ToList();
        Assert.Equal(20, children.Count);
        Assert.Equal(Enumerable.Range(1, 20), children.Select(c => c.Sequence).Order());
        Assert.Equal(10, children.Count(c => c is { Task: "triple", Kind: TaskKind.CSharp, Environment: "etl" }));
        Assert.Equal(10, children.Count(c => c is { Task: "app.ops:square", Kind: TaskKind.Python, Environment: "controller_py" }));
        Assert.All(children, c => Assert.Equal(ActionStatus.Succeeded, c.Status));
        Assert.InRange(peak, 1, 3);
    }

    [Fact]
    public async Task CallChild_FanOutWiderThanTheConnectionLimit_EveryCallWaitsItsTurnAndSucceeds()
    {
        var env = NewEnv();
        var n = ControllerHttpLimits.Default.MaxConnections + 88;
        var inc = env.Task("inc", async (int x) =>
        {
            await Task.Delay(20);
            return x + 1;
        });
        // As in-process: a fan-out of any width is bounded by MaxConcurrency, never refused.
        var parent = ContainerisedParent.Define(env, async p =>
            (await Task.WhenAll(Enumerable.Range(0, n).Select(i => inc.InvokeAsync(i)))).Sum().ToString(System.Globalization.CultureInfo.InvariantCulture));

        var run = await _fixture.Runtime.Run(parent, _fixture.Options(maxConcurrency: 8));

        Assert.Equal((n * (n + 1) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture), await run.GetOutputAsync(Ct));
        Assert.Equal(n, (await run.GetActionsAsync(Ct)).Count(a => a is { Task: "inc", Status: ActionStatus.Succeeded }));
    }

    [Fact]
    public async Task CallChild_CSharpChildThrows_ParentGetsTheSameExceptionTypeAndMessage()
    {
        var env = NewEnv();
        var failing = env.Task<int, int>("failing", async n =>
        {
            await Task.Yield();
            throw new InvalidOperationException($"no good: {n}");
        });
        Exception? caught = null;
        var parent = ContainerisedParent.Define(env, async p =>
        {
            caught = await Record.ExceptionAsync(() => failing.InvokeAsync(7));
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.GetOutputAsync(Ct);

        var error = Assert.IsType<InvalidOperationException>(caught);
        Assert.Equal("no good: 7", error.Message);
        Assert.Contains("in the driver (child action)", error.StackTrace, StringComparison.Ordinal);
        var actions = await run.GetActionsAsync(Ct);
        Assert.Contains(actions, a => a is { Task: "failing", Status: ActionStatus.Failed });
    }

    [Fact]
    public async Task CallChild_PythonChildRaises_ParentGetsPythonTaskExceptionAsInProcess()
    {
        _fixture.WritePython("app/bad.py", """
            def explode(n: int) -> int:
                raise ValueError(f"bad n {n}")
            """);
        var env = NewEnv();
        var explode = env.PythonTask<int, int>("app.bad:explode");
        Exception? caught = null;
        var parent = ContainerisedParent.Define(env, async p =>
        {
            caught = await Record.ExceptionAsync(() => explode.InvokeAsync(5));
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.GetOutputAsync(Ct);

        var error = Assert.IsType<PythonTaskException>(caught);
        Assert.Equal("ValueError", error.PythonType);
        Assert.Equal("bad n 5", error.PythonMessage);
        Assert.Equal("Python task app.bad:explode raised ValueError: bad n 5", error.Message);
        Assert.Contains("raise ValueError", error.PythonTraceback, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallChild_UnknownTask_Is404NamingIt()
    {
        var env = NewEnv();
        env.Task("known", async (int n) => await Task.FromResult(n));
        Exception? caught = null;
        var parent = ContainerisedParent.Define(env, async p =>
        {
            caught = await Record.ExceptionAsync(() => p.Client.CallChildAsync(p.Scope.ActionId, "no_such_task", "{}", Ct));
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.GetOutputAsync(Ct);

        var error = Assert.IsType<FlyteSharpException>(caught);
        Assert.Contains("(404 not_found)", error.Message, StringComparison.Ordinal);
        Assert.Contains("no task named 'no_such_task'", error.Message, StringComparison.Ordinal);
        Assert.Contains("known", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallChild_TaskOnlyReferencedInTheParentsAssembly_IsFoundByScanningIt()
    {
        var env = NewEnv();
        string? output = null;
        var parent = ContainerisedParent.Define(env, async p =>
        {
            output = await p.Client.CallChildAsync(p.Scope.ActionId, ScannedTasks.Name, "{\"text\": \"abc\"}", Ct);
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.GetOutputAsync(Ct);

        Assert.Equal("\"cba\"", output);
    }

    [Fact]
    public async Task CallChild_InputsOfTheWrongType_Is400NamingTheParameter()
    {
        var env = NewEnv();
        env.Task("double_it", async (int value) => await Task.FromResult(value * 2));
        var errors = new List<Exception?>();
        var parent = ContainerisedParent.Define(env, async p =>
        {
            errors.Add(await Record.ExceptionAsync(() => p.Client.CallChildAsync(p.Scope.ActionId, "double_it", "{\"value\": \"abc\"}", Ct)));
            errors.Add(await Record.ExceptionAsync(() => p.Client.CallChildAsync(p.Scope.ActionId, "double_it", "{}", Ct)));
            errors.Add(await Record.ExceptionAsync(() => p.Client.CallChildAsync(p.Scope.ActionId, "double_it", "{\"value\": 1, \"extra\": 2}", Ct)));
            errors.Add(await Record.ExceptionAsync(() => p.Client.CallChildAsync(p.Scope.ActionId, "double_it", "[1, 2]", Ct)));
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.GetOutputAsync(Ct);

        Assert.All(errors, e => Assert.Contains("(400 bad_request)", Assert.IsType<FlyteSharpException>(e).Message, StringComparison.Ordinal));
        Assert.Contains("input 'value' of task 'double_it' must be a int, but \"abc\" is not", errors[0]!.Message, StringComparison.Ordinal);
        Assert.Contains("input 'value' (int) of task 'double_it' is missing", errors[1]!.Message, StringComparison.Ordinal);
        Assert.Contains("has no input named 'extra'", errors[2]!.Message, StringComparison.Ordinal);
        Assert.Contains("takes 1 input(s) but 2 were given", errors[3]!.Message, StringComparison.Ordinal);
        var actions = await run.GetActionsAsync(Ct);
        Assert.Single(actions);
    }

    [Fact]
    public async Task CallChild_ParentNoLongerRegistered_Is409_AndAnUnknownParentIs404()
    {
        var env = NewEnv();
        env.Task("echo", async (int n) => await Task.FromResult(n));
        Exception? finished = null;
        Exception? unknown = null;
        var parent = env.Task("short_parent", async () =>
        {
            var scope = ActionScope.Current!;
            var server = scope.Controller.ControllerServer;
            server.Register(scope).Dispose();
            using var client = ControllerClient.FromTokenFile(server.Address, server.TokenFile);
            finished = await Record.ExceptionAsync(() => client.CallChildAsync(scope.ActionId, "echo", "{\"n\": 1}", Ct));
            unknown = await Record.ExceptionAsync(() => client.CallChildAsync("a0000000000000000", "echo", "{\"n\": 1}", Ct));
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.GetOutputAsync(Ct);

        Assert.Contains("(409 conflict): parent action", Assert.IsType<FlyteSharpException>(finished).Message, StringComparison.Ordinal);
        Assert.Contains("(404 not_found): no running action a0000000000000000", Assert.IsType<FlyteSharpException>(unknown).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallChild_RunCancelledWhileAChildRuns_PendingCallFailsPromptly()
    {
        var env = NewEnv();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = env.Task("slow", async (int n) =>
        {
            started.TrySetResult();
            await Task.Delay(TimeSpan.FromMinutes(5), TaskContext.Current!.CancellationToken);
            return n;
        });
        var callEnded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var parent = ContainerisedParent.Define(env, async p =>
        {
            // Not the parent's token: the call must end because the driver answers, not because the caller gave up.
            var call = p.Client.CallChildAsync(p.Scope.ActionId, "slow", "{\"n\": 1}", CancellationToken.None);
            callEnded.TrySetResult(await Record.ExceptionAsync(() => call));
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var clock = Stopwatch.StartNew();
        run.Cancel();
        var error = await callEnded.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        clock.Stop();

        Assert.True(error is FlyteSharpException, error?.ToString());
        Assert.Contains("(409 conflict)", error!.Message, StringComparison.Ordinal);
        Assert.Contains("the run was cancelled", error!.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the pending call took {clock.Elapsed} to fail");
        Assert.Equal(RunStatus.Cancelled, await run.WaitAsync(Ct));
    }

    [Fact]
    public async Task Server_AfterTheRunEnds_SocketAndTokenFileAreGone()
    {
        var env = NewEnv();
        string? socket = null;
        string? tokenFile = null;
        UnixFileMode socketMode = default;
        UnixFileMode tokenMode = default;
        var tokenLength = 0;
        var parent = env.Task("peek", async () =>
        {
            var server = ActionScope.Current!.Controller.ControllerServer;
            socket = server.SocketPath;
            tokenFile = server.TokenFile;
            socketMode = File.GetUnixFileMode(socket!);
            tokenMode = File.GetUnixFileMode(tokenFile);
            tokenLength = (await File.ReadAllTextAsync(tokenFile)).Length;
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.WaitAsync(Ct);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, socketMode);
        Assert.Equal(UnixFileMode.UserRead, tokenMode);
        Assert.Equal(64, tokenLength);
        Assert.False(File.Exists(socket));
        Assert.False(File.Exists(tokenFile));
    }

    [Fact]
    public async Task CallChild_KubernetesModeOverTcp_UsesTheSameTokenAndProtocol()
    {
        var env = NewEnv();
        env.Task("add_one", async (int n) => await Task.FromResult(n + 1));
        string? output = null;
        Exception? wrongToken = null;
        string? address = null;
        var parent = env.Task("tcp_parent", async () =>
        {
            var scope = ActionScope.Current!;
            var server = ControllerServer.StartTcp(scope.Controller, Path.Combine(_fixture.Root, "tcp"), "127.0.0.1:0", null);
            await using var serverDisposal = server;
            using var registration = server.Register(scope);
            address = server.Address.Text;
            using var client = ControllerClient.FromTokenFile(server.Address, server.TokenFile);
            output = await client.CallChildAsync(scope.ActionId, "add_one", "{\"n\": 41}", Ct);
            using var impostor = new ControllerClient(server.Address, "not-the-token");
            wrongToken = await Record.ExceptionAsync(() => impostor.CallChildAsync(scope.ActionId, "add_one", "{\"n\": 1}", Ct));
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.GetOutputAsync(Ct);

        Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal);
        Assert.Equal("42", output);
        Assert.Contains("(401 unauthorized)", Assert.IsType<FlyteSharpException>(wrongToken).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallChild_OverTcp_AnotherRunsTokenIs401_AndAnActionOfAnotherRunIs404()
    {
        var env = NewEnv();
        env.Task("add_two", async (int n) => await Task.FromResult(n + 2));
        Exception? otherRunsToken = null;
        Exception? otherRunsAction = null;
        var parent = env.Task("tcp_guard", async () =>
        {
            var scope = ActionScope.Current!;
            var ours = ControllerServer.StartTcp(scope.Controller, Path.Combine(_fixture.Root, "tcp-ours"), "127.0.0.1:0", null);
            await using var oursDisposal = ours;
            var theirs = ControllerServer.StartTcp(scope.Controller, Path.Combine(_fixture.Root, "tcp-theirs"), "127.0.0.1:0", null);
            await using var theirsDisposal = theirs;
            using var registration = ours.Register(scope);
            using var withTheirToken = ControllerClient.FromTokenFile(ours.Address, theirs.TokenFile);
            otherRunsToken = await Record.ExceptionAsync(() => withTheirToken.CallChildAsync(scope.ActionId, "add_two", "{\"n\": 1}", Ct));
            using var withOurToken = ControllerClient.FromTokenFile(ours.Address, ours.TokenFile);
            otherRunsAction = await Record.ExceptionAsync(() => withOurToken.CallChildAsync("a0someone-elses-action", "add_two", "{\"n\": 1}", Ct));
            return "done";
        });

        var run = await _fixture.Runtime.Run(parent, _fixture.Options());
        await run.GetOutputAsync(Ct);

        Assert.Contains("(401 unauthorized)", Assert.IsType<FlyteSharpException>(otherRunsToken).Message, StringComparison.Ordinal);
        Assert.Contains("(404 not_found)", Assert.IsType<FlyteSharpException>(otherRunsAction).Message, StringComparison.Ordinal);
        Assert.DoesNotContain((await run.GetActionsAsync(Ct)), a => a.Task == "add_two");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}

/// <summary>A task no action of the tests' runs touches before a containerised parent names it: found by scanning this assembly.</summary>
internal static class ScannedTasks
{
    public const string Name = "controller_scanned_reverse";

    /// <summary>A Python task in an environment no other action of the run starts in.</summary>
    public static readonly FlyteTask<int, int> Square = new TaskEnvironment("controller_py", Image.FromDebianBase()).PythonTask<int, int>("app.ops:square");

    public static readonly FlyteTask<string, string> Reverse = new TaskEnvironment("scanned", Image.FromDebianBase())
        .Task(Name, async (string text) => await Task.FromResult(new string(text.Reverse().ToArray())));
}
