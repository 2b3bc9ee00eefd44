using FlyteSharp.Execution.Kubernetes;
using k8s;

namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>
/// The process-wide hub of shared replica Pods on a real TCP listener. Its Kubernetes client points at a port nothing
/// listens on: starting a hub contacts no API server (the token Secret is made with the first Pod).
/// </summary>
public sealed class SharedReplicaHubTests
{
    [Fact]
    public async Task Get_Started_LeavesNoTokenFileOnDisk()
    {
        var hub = SharedReplicaHub.Get("tests-" + Guid.NewGuid().ToString("n"),
            () => new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://127.0.0.1:9/" }),
            "flytesharp-tests", "127.0.0.1:0", "http://127.0.0.1:{port}", TimeProvider.System);
        await using var hubDisposal = hub;

        // A killed driver runs no clean-up: a token file written at start would stay in the temp folder for good.
        Assert.False(File.Exists(hub.Server.TokenFile), hub.Server.TokenFile);
        Assert.False(Directory.Exists(Path.GetDirectoryName(hub.Server.TokenFile)));
        Assert.NotEmpty(hub.Server.Token.Value);
    }
}
