using System.Text;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>
/// One attempt of one action, flowing with the task body's async calls (AsyncLocal). Task calls made
/// while it is current become its children; console output written while it is current becomes its log.
/// </summary>
internal sealed class ActionScope : ITaskCallContext
{
    private readonly StringBuilder?[] _partialLines = new StringBuilder?[2];
    private int _childSequence;

    public ActionScope(RunController controller, ActionState action, int attempt, CancellationToken cancellationToken)
    {
        Controller = controller;
        Action = action;
        Attempt = attempt;
        CancellationToken = cancellationToken;
    }

    /// <summary>The action whose body runs on this async flow (the definitions' <see cref="TaskCalls.Current"/>).</summary>
    public static ActionScope? Current
    {
        get => TaskCalls.Current as ActionScope;
        set => TaskCalls.Current = value;
    }

    public RunController Controller { get; }

    public string RunName => Controller.RunName;

    public ActionState Action { get; }

    public string ActionId => Action.Id;

    public int Attempt { get; }

    public CancellationToken CancellationToken { get; }

    /// <inheritdoc/>
    public Task<object?> CallAsync(TaskDefinition task, object?[] inputs) => Controller.CallChildAsync(this, task, inputs);

    /// <summary>The secrets of the action's environment (C# tasks read them through <see cref="Tasks.TaskContext"/>).</summary>
    public IReadOnlyList<Secrets.ResolvedSecret> Secrets { get; set; } = [];

    /// <inheritdoc/>
    public string EnvironmentName => Action.Task.Environment.Name;

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> EnvironmentVariables => Action.Task.Environment.EnvVars;

    /// <inheritdoc/>
    public string? FindSecret(string key)
    {
        foreach (var resolved in Secrets)
        {
            if (resolved.Secret.Key == key || resolved.Secret.DisplayName == key)
            {
                return resolved.Value;
            }
        }

        return null;
    }

    /// <summary>The call sequence number of the next child (1-based, in call order).</summary>
    public int NextChildSequence() => Interlocked.Increment(ref _childSequence);

    /// <summary>Appends console text, logging each completed line.</summary>
    public void WriteConsole(int stream, ReadOnlySpan<char> text)
    {
        lock (_partialLines)
        {
            var buffer = _partialLines[stream] ??= new StringBuilder();
            foreach (var c in text)
            {
                if (c == '\n')
                {
                    if (buffer.Length > 0 && buffer[^1] == '\r')
                    {
                        buffer.Length--;
                    }

                    Controller.Log(ActionId, stream == 0 ? "stdout" : "stderr", buffer.ToString());
                    buffer.Clear();
                }
                else
                {
                    buffer.Append(c);
                }
            }
        }
    }

    /// <summary>Logs any unterminated console line.</summary>
    public void FlushConsole()
    {
        lock (_partialLines)
        {
            for (var i = 0; i < _partialLines.Length; i++)
            {
                if (_partialLines[i] is { Length: > 0 } b)
                {
                    Controller.Log(ActionId, i == 0 ? "stdout" : "stderr", b.ToString());
                    b.Clear();
                }
            }
        }
    }
}
