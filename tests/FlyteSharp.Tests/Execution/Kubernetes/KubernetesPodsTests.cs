using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Kubernetes;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>The shared pod engine against a FAKE API server (<see cref="FakeKubernetesApi"/>: no Kubernetes API server can run here).</summary>
public sealed class KubernetesPodsTests : IAsyncDisposable
{
    private readonly FakeKubernetesApi _api = new();

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task RunAsync_CancelledWhileTheCreateIsInFlight_ThePodTheServerMadeIsDeleted()
    {
        _api.CreateDelay = TimeSpan.FromSeconds(1);
        _api.Scenario = _ => PodScenario.Hang;
        using var client = _api.Client();
        var pods = new KubernetesPods(client, "flytesharp-tests", TimeProvider.System);
        var pod = KubernetesPodSpec.Build("flytesharp-cancel-1-abc", "flytesharp-tests", new ContainerImage("img:1", "python3", "/r.py", null, false),
            new Resources(), ["python3", "-c", "pass"], "{}", "cancel", "a0", "t", "env");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pods.RunAsync(pod, new PodLog(null), cancel.Token));

        Assert.Single(_api.Created);
        Assert.Equal(["flytesharp-cancel-1-abc"], _api.Deleted);
    }
}
