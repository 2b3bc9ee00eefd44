using FlyteSharp.Runner;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// A pod's log as it streams in: each line goes to the run's log except the runner's marked result line
/// (<c>--result-stdout</c>), which is kept; the last one wins. The last lines are kept for error messages.
/// </summary>
internal sealed class PodLog(Action<string, string>? sink)
{
    private const int TailLines = 20;
    private readonly Queue<string> _tail = new();
    private readonly Lock _gate = new();
    private int _replayed;

    /// <summary>The JSON of the last complete result line, or null.</summary>
    public string? ResultJson { get; private set; }

    /// <summary>How many lines were read.</summary>
    public int Lines { get; private set; }

    /// <summary>Takes one log line.</summary>
    public void Add(string line)
    {
        lock (_gate)
        {
            Lines++;
            var begin = line.LastIndexOf(RunnerProtocol.ResultBegin, StringComparison.Ordinal);
            if (begin >= 0 && line.EndsWith(RunnerProtocol.ResultEnd, StringComparison.Ordinal) && begin + RunnerProtocol.ResultBegin.Length <= line.Length - RunnerProtocol.ResultEnd.Length)
            {
                ResultJson = line[(begin + RunnerProtocol.ResultBegin.Length)..^RunnerProtocol.ResultEnd.Length];
                if (begin == 0)
                {
                    return;
                }

                // Task output without a final newline shares the line: it is still the task's output.
                line = line[..begin];
            }

            if (_replayed > 0)
            {
                // Read again after a broken stream: these lines already went to the run's log.
                _replayed--;
                return;
            }

            // Pod logs merge stdout and stderr; the stream is not known.
            sink?.Invoke("stdout", line);
            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
    }

    /// <summary>Before the log is read again from its start: the lines already read are not logged twice.</summary>
    public void Replay()
    {
        lock (_gate)
        {
            _replayed = Lines;
            Lines = 0;
            ResultJson = null;
        }
    }

    /// <summary>The last lines, for error messages.</summary>
    public IReadOnlyList<string> Tail()
    {
        lock (_gate)
        {
            return _tail.ToArray();
        }
    }
}
