using System.Diagnostics;
using System.Net.Sockets;
using FlyteSharp.Controller;

namespace FlyteSharp.Tests.Controller;

public class ControllerClientTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fs-ctl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CallChild_NoSocketAtThePath_FailsAtOnceNamingThePathAndWhatToCheck()
    {
        var path = Path.Combine(_dir, "controller.sock");
        using var client = new ControllerClient(ControllerAddress.Unix(path), "token");
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => client.CallChildAsync("a1", "load", "{}", Ct));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains($"cannot reach the FlyteSharp controller at unix:{path} to call task 'load'", error.Message, StringComparison.Ordinal);
        Assert.Contains("check that the run is still running", error.Fix, StringComparison.Ordinal);
        Assert.Contains("that the socket is mounted", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallChild_SocketNobodyListensOn_FailsAtOnce()
    {
        var path = Path.Combine(_dir, "stale.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            // Bound but never listening, then closed: the file stays, as after a driver that died.
            stale.Bind(new UnixDomainSocketEndPoint(path));
        }

        using var client = new ControllerClient(ControllerAddress.Unix(path), "token");

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => client.CallChildAsync("a1", "load", "{}", Ct));

        Assert.Contains($"cannot reach the FlyteSharp controller at unix:{path}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallChild_ServerAcceptsButNeverConnectsWithinTheTimeout_FailsWithTheConnectTimeout()
    {
        // A TCP listener with a full backlog that never accepts: the connect itself stalls (SYNs are dropped).
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try
                {
                    filler.Connect(System.Net.IPAddress.Loopback, port);
                }
                catch (SocketException)
                {
                    // In progress.
                }

                fillers.Add(filler);
            }

            using var client = new ControllerClient(ControllerAddress.Http("127.0.0.1", port), "token", connectTimeout: TimeSpan.FromMilliseconds(500));
            var clock = Stopwatch.StartNew();

            var error = await Record.ExceptionAsync(() => client.CallChildAsync("a1", "load", "{}", Ct));

            // Linux drops the SYN of a connection to a listener whose backlog is full, so the connect stalls until the timeout.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
            var failure = Assert.IsType<FlyteSharpException>(error);
            Assert.Contains("no connection within 0.5 s", failure.Message, StringComparison.Ordinal);
            Assert.Contains("[kubernetes] controller_url", failure.Fix, StringComparison.Ordinal);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void FromTokenFile_MissingFile_NamesItAndTheFlag()
    {
        var file = Path.Combine(_dir, "controller.token");

        var error = Assert.Throws<FlyteSharpException>(() => ControllerClient.FromTokenFile(ControllerAddress.Unix("/run/x.sock"), file));

        Assert.Equal(file, error.File);
        Assert.Contains("--controller-token-file", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void FromTokenFile_EmptyFile_IsRefused()
    {
        var file = Path.Combine(_dir, "controller.token");
        File.WriteAllText(file, "\n");

        var error = Assert.Throws<FlyteSharpException>(() => ControllerClient.FromTokenFile(ControllerAddress.Unix("/run/x.sock"), file));

        Assert.Contains("empty", error.Reason, StringComparison.Ordinal);
    }
}
