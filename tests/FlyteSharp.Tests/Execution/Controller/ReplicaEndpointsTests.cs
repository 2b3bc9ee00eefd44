using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Runner;
using FlyteSharp.Runs;

namespace FlyteSharp.Tests.Execution.Controller;

/// <summary>
/// The pulling replicas' endpoints of the real controller API server on real TCP (<c>GET /v1/replicas/{id}/next</c>,
/// <c>POST …/replies</c>, <c>POST …/heartbeat</c>), attacked the way a hostile Pod or a careless client would, and the
/// real runner's pull loop against it.
/// </summary>
public sealed class ReplicaEndpointsTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flytesharp-tests", "replica-api-" + Guid.NewGuid().ToString("n"));
    private readonly List<(RunController Run, RunStoreWriter Writer, ControllerServer Server)> _runs = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var (run, writer, server) in _runs)
        {
            await server.DisposeAsync();
            run.Dispose();
            await writer.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Next_WrongOrMissingToken_401AndTheRequestStaysForTheRealReplica()
    {
        var server = Start();
        using var mailbox = server.OpenReplica("r");
        var call = mailbox.SendAsync(new Dictionary<string, object?> { ["op"] = "describe", ["tasks"] = Array.Empty<string>() }, Ct);
        var sameLength = new string(server.Token.Value.Select(c => c == 'a' ? 'b' : 'a').ToArray());

        using var wrong = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", sameLength);
        using var missing = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", null);
        using var right = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", server.Token.Value);

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.DoesNotContain("describe", await wrong.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        using var request = JsonDocument.Parse(await right.Content.ReadAsStringAsync(Ct));
        Assert.Equal("describe", request.RootElement.GetProperty("op").GetString());
        Assert.False(call.IsCompleted);
    }

    [Fact]
    public async Task Replies_ForARequestTheReplicaWasNotGiven_409_OnlyTheRightReplyCompletesTheCall()
    {
        var server = Start();
        using var mailbox = server.OpenReplica("r");
        var call = mailbox.SendAsync(new Dictionary<string, object?> { ["op"] = "call", ["task"] = "app.x:f", ["inputs"] = new Dictionary<string, int>() }, Ct);

        using var beforePoll = await SendAsync(server, HttpMethod.Post, $"/v1/replicas/{mailbox.Id}/replies", server.Token.Value, """{"id": 1, "ok": true, "output": 666}""");
        using var poll = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", server.Token.Value);
        var id = JsonDocument.Parse(await poll.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();
        using var otherId = await SendAsync(server, HttpMethod.Post, $"/v1/replicas/{mailbox.Id}/replies", server.Token.Value, $$"""{"id": {{id + 1}}, "ok": true, "output": 666}""");
        using var noId = await SendAsync(server, HttpMethod.Post, $"/v1/replicas/{mailbox.Id}/replies", server.Token.Value, """{"ok": true, "output": 666}""");
        using var notJson = await SendAsync(server, HttpMethod.Post, $"/v1/replicas/{mailbox.Id}/replies", server.Token.Value, "{not json");
        Assert.False(call.IsCompleted);
        using var right = await SendAsync(server, HttpMethod.Post, $"/v1/replicas/{mailbox.Id}/replies", server.Token.Value, $$"""{"id": {{id}}, "ok": true, "output": 42}""");
        using var again = await SendAsync(server, HttpMethod.Post, $"/v1/replicas/{mailbox.Id}/replies", server.Token.Value, $$"""{"id": {{id}}, "ok": true, "output": 666}""");

        Assert.Equal(HttpStatusCode.Conflict, beforePoll.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, otherId.StatusCode);
        Assert.Contains($"was not given request {id + 1}", await otherId.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noId.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, right.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode); // a replay answers nothing
        using var reply = await call;
        Assert.Equal(42, reply.RootElement.GetProperty("output").GetInt32());
    }

    [Fact]
    public async Task Next_PollAgainBeforeReplying_GetsTheSameRequestAgain()
    {
        // The runner polls only after it replied: a second poll means the first answer never reached it (a broken connection).
        var server = Start();
        using var mailbox = server.OpenReplica("r");
        var call = mailbox.SendAsync(new Dictionary<string, object?> { ["op"] = "describe", ["tasks"] = Array.Empty<string>() }, Ct);

        using var first = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", server.Token.Value);
        using var second = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", server.Token.Value);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(Ct), await second.Content.ReadAsStringAsync(Ct));
        Assert.False(call.IsCompleted);
    }

    [Fact]
    public async Task Next_ReplicaIdOfAnotherRun_404WithItsOwnToken_401WithTheOtherRunsToken()
    {
        var ours = Start();
        var theirs = Start();
        using var mailbox = theirs.OpenReplica("r");

        using var withOurToken = await SendAsync(ours, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", ours.Token.Value);
        using var withTheirToken = await SendAsync(ours, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", theirs.Token.Value);

        Assert.Equal(HttpStatusCode.NotFound, withOurToken.StatusCode);
        Assert.Contains("no replica", await withOurToken.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, withTheirToken.StatusCode);
    }

    [Fact]
    public async Task Replies_LargerThanTheBodyLimit_413_TheCallKeepsWaiting()
    {
        var server = Start(maxBodyBytes: 4096);
        using var mailbox = server.OpenReplica("r");
        var call = mailbox.SendAsync(new Dictionary<string, object?> { ["op"] = "call" }, Ct);
        using var poll = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", server.Token.Value);
        var id = JsonDocument.Parse(await poll.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();

        using var huge = await SendAsync(server, HttpMethod.Post, $"/v1/replicas/{mailbox.Id}/replies", server.Token.Value,
            $$"""{"id": {{id}}, "ok": true, "output": "{{new string('x', 5000)}}"}""");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.False(call.IsCompleted);
    }

    [Fact]
    public async Task Next_NothingToDo_204AfterTheWait_RetiredReplica_410_WrongMethod_405()
    {
        var server = Start();
        server.ReplicaPollWait = TimeSpan.FromMilliseconds(200);
        var mailbox = server.OpenReplica("r");

        using var idle = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", server.Token.Value);
        using var post = await SendAsync(server, HttpMethod.Post, $"/v1/replicas/{mailbox.Id}/next", server.Token.Value, "{}");
        mailbox.Dispose();
        using var retired = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{mailbox.Id}/next", server.Token.Value);

        Assert.Equal(HttpStatusCode.NoContent, idle.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, retired.StatusCode);
    }

    [Fact]
    public async Task OpenReplica_ManyRetired_RememberedIdsStayBounded_NewestStill410()
    {
        // The process-wide replica hub lives as long as the driver and retires a replica at every idle TTL.
        var server = Start();
        string newest = "";
        for (var i = 0; i < ControllerServer.MaxRetiredReplicas * 3; i++)
        {
            using var mailbox = server.OpenReplica("r");
            newest = mailbox.Id;
        }

        using var late = await SendAsync(server, HttpMethod.Get, $"/v1/replicas/{newest}/next", server.Token.Value);

        Assert.InRange(server.RetiredReplicaCount, 1, ControllerServer.MaxRetiredReplicas);
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
    }

    [Fact]
    public async Task RunnerPullLoop_CallsATaskInline_DescriptorOutputInItsReply_AnOversizedReplyBecomesASmallError_StopEndsTheProcess()
    {
        var server = Start(maxBodyBytes: 64 * 1024);
        var bundle = Path.Combine(_root, "bundle");
        Directory.CreateDirectory(Path.Combine(bundle, "app"));
        File.WriteAllText(Path.Combine(bundle, "app", "__init__.py"), "");
        File.WriteAllText(Path.Combine(bundle, "app", "big.py"), """
            import subprocess

            def small(n: int) -> int:
                print('hi', n)
                subprocess.run(["sh", "-c", f"echo fd-out {n}; echo fd-err {n} >&2"], check=True)
                return n + 1

            def big(n: int) -> str:
                return 'x' * n
            """);
        var runner = Path.Combine(_root, PythonRunnerScript.FileName);
        File.WriteAllBytes(runner, PythonRunnerScript.Bytes);
        var tokenFile = Path.Combine(_root, "token");
        File.WriteAllText(tokenFile, server.Token.Value);
        var mailbox = server.OpenReplica("r");
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { runner, "--bundle-dir", bundle, "--serve-pull", server.Address.Text, "--replica", mailbox.Id, "--controller-token-file", tokenFile })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            using var small = await mailbox.SendAsync(Call("app.big:small", 41, server.MaxBodyBytes), Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            using var big = await mailbox.SendAsync(Call("app.big:big", 100_000, server.MaxBodyBytes), Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            mailbox.Dispose();
            await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

            Assert.Equal("42", RunnerProtocol.ParseCall(small.RootElement, 0, "pod").OutputJson);
            Assert.Equal("hi 41\nfd-out 41\n", small.RootElement.GetProperty("stdout").GetString());
            Assert.Equal("fd-err 41\n", small.RootElement.GetProperty("stderr").GetString()); // a subprocess's output is the call's too
            var error = RunnerProtocol.ParseCall(big.RootElement, 0, "pod").Error!;
            Assert.Contains("more than the 65536 bytes the driver accepts", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, process.ExitCode);
            Assert.DoesNotContain(server.Token.Value, await stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static Dictionary<string, object?> Call(string task, int n, long maxReply) =>
        new() { ["op"] = "call", ["task"] = task, ["inputs"] = new Dictionary<string, int> { ["n"] = n }, ["max_reply_bytes"] = maxReply };

    private ControllerServer Start(long maxBodyBytes = 64 * 1024 * 1024)
    {
        var name = "replica-api-" + _runs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sandbox = Path.Combine(_root, name);
        Directory.CreateDirectory(sandbox);
        var config = new FlyteConfig { Home = Path.Combine(_root, "home") };
        var settings = new RunSettings(name, "http://localhost/runs/" + name, config, null, ExecutionMode.Kubernetes, 8, 8, TimeProvider.System, sandbox);
        var store = RunStore.Open(Path.Combine(_root, "home", "runs.db"));
        var writer = new RunStoreWriter(store, name);
        var run = new RunController(settings, store, writer, _ => throw new InvalidOperationException("not used"), CancellationToken.None);
        var server = ControllerServer.StartTcp(run, Path.Combine(sandbox, "controller"), "127.0.0.1:0", null,
            ControllerHttpLimits.Default with { MaxBodyBytes = maxBodyBytes });
        _runs.Add((run, writer, server));
        return server;
    }

    private static async Task<HttpResponseMessage> SendAsync(ControllerServer server, HttpMethod method, string path, string? token, string? body = null)
    {
        using var client = new HttpClient { BaseAddress = server.Address.BaseUri };
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(request, Ct);
    }
}
