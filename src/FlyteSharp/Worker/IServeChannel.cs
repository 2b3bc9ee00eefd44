namespace FlyteSharp.Worker;

/// <summary>
/// Where the worker's serve loop (<see cref="WorkerServe"/>) gets its requests and sends its replies: JSON lines on the
/// standard streams (a reusable container, <see cref="StreamServeChannel"/>) or pulled from the driver's controller API
/// over HTTP (a reusable Pod, <see cref="PullServeChannel"/>). One request at a time: a reply is sent before the next read.
/// </summary>
internal interface IServeChannel
{
    /// <summary>The next request (or a too-long one), or the end of input when the channel is done.</summary>
    Task<BoundedLineReader.Line> ReadAsync(CancellationToken stop);

    /// <summary>Sends the reply to the request last read.</summary>
    Task WriteAsync(string reply, CancellationToken stop);

    /// <summary>The worker's exit code once <see cref="ReadAsync"/> reported the end: 0 when told to stop, else why it could not go on.</summary>
    int ExitCode { get; }
}
