using System.Text.Json;
using FlyteSharp.Controller;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using FlyteSharp.Processes;

namespace FlyteSharp.IntegrationTests.Controller;

/// <summary>
/// The controller API from inside a real container: the run's socket and token file are bind-mounted into a podman
/// container of the Debian base image (no network), and python3's http.client over AF_UNIX calls children of the
/// registered parent action — a fan-out of C# children, a Python child, a wrong token — exactly as a worker in a
/// container would. The socket is 0600 and the token file 0400, owned by the driver's user; podman runs rootful here.
/// </summary>
public class ControllerContainerTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage; // builds the local base image the container runs

    private const string Client = """
        import http.client, json, socket, sys, threading

        class UnixConnection(http.client.HTTPConnection):
            def __init__(self, path):
                super().__init__("localhost", timeout=60)
                self.unix_path = path

            def connect(self):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(60)
                s.connect(self.unix_path)
                self.sock = s

        def call(parent, token, body):
            c = UnixConnection("/run/flytesharp/controller.sock")
            c.request("POST", "/v1/actions/%s/children" % parent, body=json.dumps(body),
                      headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            r = c.getresponse()
            data = json.loads(r.read())
            c.close()
            return [r.status, data]

        parent = sys.argv[1]
        token = open("/run/flytesharp/controller.token").read().strip()
        fanout = {}
        def one(i):
            fanout[i] = call(parent, token, {"task": "ctl_double", "inputs": {"n": i}})
        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        result = {
            "fanout": [fanout[i] for i in range(8)],
            "python": call(parent, token, {"task": "app.ops:shout", "inputs": {"text": "hi"}}),
            "failing": call(parent, token, {"task": "app.ops:shout", "inputs": {"text": ""}}),
            "bad_token": call(parent, "A" * 43, {"task": "ctl_double", "inputs": {"n": 1}}),
        }
        print(json.dumps(result))
        """;

    [Fact]
    public async Task Container_CallsChildrenThroughTheMountedSocket_ChildrenRunInTheDriverUnderTheParent()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", """
            def shout(text: str) -> str:
                if not text:
                    raise ValueError("nothing to shout")
                return text.upper() + "!"
            """);
        var env = new TaskEnvironment("ctl", Image.FromDebianBase("3.11"));
        env.Task("ctl_double", async (int n) => await Task.FromResult(n * 2));
        env.PythonTask<string, string>("app.ops:shout");
        CliResult? container = null;
        var name = "flytesharp-ctltest-" + Guid.NewGuid().ToString("N")[..8];
        var parent = env.Task("containerised", async () =>
        {
            var scope = ActionScope.Current!;
            var server = scope.Controller.ControllerServer;
            using var registration = server.Register(scope);
            container = await CliProcess.RunAsync("podman",
            [
                "run", "--rm", "--name", name, "--network", "none",
                "--volume", $"{server.SocketPath}:{ControllerProtocol.ContainerSocketPath}",
                "--volume", $"{server.TokenFile}:{ControllerProtocol.ContainerTokenPath}:ro",
                BaseImage.Reference, "python3", "-c", Client, scope.ActionId,
            ], cancellationToken: ct);
            return "done";
        });

        var run = await project.Runtime.Run(parent, new RunOptions { MaxConcurrency = 3, CancellationToken = ct });
        Assert.Equal(RunStatus.Succeeded, await run.WaitAsync(ct));

        Assert.True(container!.ExitCode == 0, container.Combined);
        using var reply = JsonDocument.Parse(container.StandardOutput);
        var fanout = reply.RootElement.GetProperty("fanout").EnumerateArray().ToList();
        Assert.Equal(8, fanout.Count);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(200, fanout[i][0].GetInt32());
            Assert.Equal(i * 2, fanout[i][1].GetProperty("output").GetInt32());
        }

        var python = reply.RootElement.GetProperty("python");
        Assert.Equal(200, python[0].GetInt32());
        Assert.Equal("HI!", python[1].GetProperty("output").GetString());
        var failing = reply.RootElement.GetProperty("failing");
        Assert.Equal(422, failing[0].GetInt32());
        var error = failing[1].GetProperty("error");
        Assert.Equal("ValueError", error.GetProperty("type").GetString());
        Assert.Equal("nothing to shout", error.GetProperty("message").GetString());
        Assert.Equal("python", error.GetProperty("kind").GetString());
        Assert.Contains("raise ValueError", error.GetProperty("traceback").GetString(), StringComparison.Ordinal);
        var badToken = reply.RootElement.GetProperty("bad_token");
        Assert.Equal(401, badToken[0].GetInt32());
        Assert.Equal("unauthorized", badToken[1].GetProperty("error").GetProperty("type").GetString());

        var actions = await run.GetActionsAsync(ct);
        var root = Assert.Single(actions, a => a.ParentId is null);
        var children = actions.Where(a => a.ParentId == root.Id).ToList();
        Assert.Equal(10, children.Count);
        Assert.Equal(8, children.Count(c => c is { Task: "ctl_double", Kind: TaskKind.CSharp, Status: ActionStatus.Succeeded }));
        Assert.Single(children, c => c is { Task: "app.ops:shout", Status: ActionStatus.Succeeded });
        Assert.Single(children, c => c is { Task: "app.ops:shout", Status: ActionStatus.Failed });
        Assert.Empty(await Podman.ContainersAsync(name));
    }
}
