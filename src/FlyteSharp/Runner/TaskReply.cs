namespace FlyteSharp.Runner;

/// <summary>
/// A runner's reply to one task call, whichever runner made it (<c>flytesharp_runner.py</c> for Python tasks, the .NET
/// worker for C# tasks; see <see cref="RunnerProtocol"/>): the output's JSON text, or the error the task raised.
/// </summary>
/// <param name="OutputJson">The output's JSON text; null when the call failed or the output is in <see cref="OutputFile"/>.</param>
/// <param name="Error">What the task (or the runner, before it) raised; null when it returned.</param>
internal sealed record TaskReply(string? OutputJson, TaskReplyError? Error)
{
    /// <summary>A file holding the output's JSON when it was above the inline limit (then <see cref="OutputJson"/> is null).</summary>
    public string? OutputFile { get; init; }
}
