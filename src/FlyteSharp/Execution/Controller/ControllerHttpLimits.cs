namespace FlyteSharp.Execution.Controller;

/// <summary>The bounds every request to the controller API is read within; past one the connection gets a 4xx and is closed.</summary>
/// <param name="MaxHeadBytes">Request line plus headers (431 past it).</param>
/// <param name="MaxHeaders">Header lines (431 past it).</param>
/// <param name="MaxBodyBytes">Body size, from Content-Length (413 past it).</param>
/// <param name="HeadTimeout">Time to send the request line and headers (408 past it: slow clients hold no slot for long).</param>
/// <param name="BodyTimeout">Time to send the body.</param>
/// <param name="MaxConnections">Connections served at once (503 past it).</param>
internal sealed record ControllerHttpLimits(
    int MaxHeadBytes,
    int MaxHeaders,
    long MaxBodyBytes,
    TimeSpan HeadTimeout,
    TimeSpan BodyTimeout,
    int MaxConnections)
{
    /// <summary>16 KiB of headers (64 lines), 64 MiB bodies, 10 s for the headers, 120 s for the body, 512 connections.</summary>
    public static ControllerHttpLimits Default { get; } = new(16 * 1024, 64, 64L * 1024 * 1024, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(120), 512);
}
