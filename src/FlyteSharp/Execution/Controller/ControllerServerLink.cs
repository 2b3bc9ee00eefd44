namespace FlyteSharp.Execution.Controller;

/// <summary>
/// How an executor made before its run's <see cref="RunController"/> reaches the run's controller API server: the run
/// binds it when it is created, and the server itself starts on first use (a reusable Pod's first start).
/// </summary>
internal sealed class ControllerServerLink
{
    private Func<ControllerServer>? _server;

    /// <summary>Binds the run's server (started on first <see cref="Get"/>).</summary>
    public void Bind(Func<ControllerServer> server) => _server = server;

    /// <summary>The run's controller API server, started if it is not yet.</summary>
    /// <exception cref="InvalidOperationException">No run is bound (an executor used outside a run).</exception>
    public ControllerServer Get() => (_server ?? throw new InvalidOperationException("no run's controller API is bound to this executor"))();
}
