namespace FlyteSharp.Runs;

/// <summary>
/// The console API's view of runs and actions (serialized with <see cref="JsonConvention"/>, like every <c>--json</c>): inputs and outputs as previews (at most
/// <see cref="OutputColumn.PreviewChars"/> characters) with their full size and where to get the whole output.
/// </summary>
internal static class RunApi
{
    public static object Run(RunRecord run) => new
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

    public static Func<ActionRecord, object> Action(string runName) => a => new
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
