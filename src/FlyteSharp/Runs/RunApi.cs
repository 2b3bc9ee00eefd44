using System.Text.Json.Nodes;

namespace FlyteSharp.Runs;

/// <summary>
/// The console API's JSON view of runs and actions (what <c>/api/runs</c> serves and <c>flytesharp runs show --json</c>
/// prints, in the <see cref="JsonConvention"/>): inputs and outputs as previews (at most 1,000 characters) with their
/// full size and the API path of the whole output.
/// </summary>
public static class RunApi
{
    /// <summary>A run as the console API shows it.</summary>
    /// <param name="run">The run, best read with previews only.</param>
    public static JsonObject Run(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return Node(RunView(run));
    }

    /// <summary>An action of <paramref name="runName"/> as the console API shows it.</summary>
    /// <param name="runName">The action's run.</param>
    /// <param name="action">The action, best read with previews only.</param>
    public static JsonObject Action(string runName, ActionRecord action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Node(ActionView(runName, action));
    }

    private static JsonObject Node(object view) => System.Text.Json.JsonSerializer.SerializeToNode(view, JsonConvention.Options)!.AsObject();

    private static object RunView(RunRecord run) => new
    {
        run.Name,
        run.Task,
        run.Environment,
        run.Status,
        Inputs = Value(run.InputsJson, null, null, null),
        Outputs = Value(run.OutputsJson, run.OutputsBlob, run.OutputsLength, $"/api/runs/{Uri.EscapeDataString(run.Name)}/output"),
        run.Error,
        run.Url,
        run.CreatedAt,
        run.EndedAt,
        run.BundleDigest,
        run.Mode,
        run.Duration,
    };

    private static object ActionView(string runName, ActionRecord a) => new
    {
        a.Id,
        a.ParentId,
        a.Sequence,
        a.Depth,
        a.Task,
        a.Kind,
        a.Environment,
        a.Status,
        a.Attempts,
        a.CacheHit,
        Inputs = Value(a.InputsJson, a.InputsBlob, null, null),
        Outputs = Value(a.OutputsJson, a.OutputsBlob, a.OutputsLength, $"/api/runs/{Uri.EscapeDataString(runName)}/actions/{Uri.EscapeDataString(a.Id)}/output"),
        a.Error,
        a.StartedAt,
        a.EndedAt,
        a.Duration,
        a.EnvVars,
        a.Image,
        a.Host,
        a.AttemptStartedAt,
    };

    /// <summary>A preview of an inline or blob value: <c>{preview, truncated, size, blob, url}</c>, or null when there is none.</summary>
    private static object? Value(string? json, OutputBlob? blob, long? length, string? url)
    {
        if (blob is not null)
        {
            return new { Preview = blob.Preview, Truncated = true, Size = blob.Size, Blob = blob.Uri, Url = url };
        }

        if (json is null)
        {
            return null;
        }

        var preview = OutputColumn.Preview(json);
        return new { Preview = preview, Truncated = preview.Length < (length ?? json.Length), Size = length ?? json.Length, Blob = (string?)null, Url = url };
    }
}
