using System.Globalization;

namespace FlyteSharp.Runs;

/// <summary>
/// How runs' values are written as text for people: statuses, durations, times, sizes and previews of inputs and
/// outputs. The run console's pages and the <c>flytesharp</c> CLI both write them this way, and tools that show runs
/// next to them can too.
/// </summary>
public static class RunText
{
    /// <summary>A run status as the run store and the CLI's tables spell it: <c>running</c>, <c>succeeded</c>, <c>cancelled</c>, …</summary>
    /// <param name="status">The status.</param>
    public static string Status(RunStatus status) => RunStore.Text(status);

    /// <summary>An action status as the run store and the CLI's tables spell it: <c>running</c>, <c>timed_out</c>, <c>cached</c>, …</summary>
    /// <param name="status">The status.</param>
    public static string Status(ActionStatus status) => RunStore.Text(status);

    /// <summary>A status as the console's API and pages spell it: the JSON convention's camelCase enum name (<c>timedOut</c>).</summary>
    /// <typeparam name="T">The status enum.</typeparam>
    /// <param name="status">The status.</param>
    public static string ApiName<T>(T status) where T : struct, Enum
    {
        var name = status.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    /// <summary>A duration: <c>412 ms</c> under a second, <c>3.25 s</c> under a minute, else <c>h:mm:ss</c>; empty when there is none.</summary>
    /// <param name="duration">The duration, or null while it is unknown.</param>
    public static string Duration(TimeSpan? duration) => duration switch
    {
        null => "",
        { TotalSeconds: < 1 } d => $"{d.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms",
        { TotalMinutes: < 1 } d => $"{d.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s",
        var d => d.Value.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture),
    };

    /// <summary>A point in time in UTC to the second: <c>2026-11-27 09:41:44 UTC</c>.</summary>
    /// <param name="at">The time.</param>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A size in bytes: <c>512 B</c>, <c>1.5 KiB</c>, <c>12.3 MiB</c>.</summary>
    /// <param name="bytes">The size.</param>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{(bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture)} KiB",
        _ => $"{(bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture)} MiB",
    };

    /// <summary>The start of an inline or blob value as shown in place (ending in <c>…</c> when there is more), or empty when there is none.</summary>
    /// <param name="json">The inline JSON (a preview when the record was read with previews only).</param>
    /// <param name="blob">The value's blob, when it was stored as one.</param>
    /// <param name="length">The inline value's whole length (<see cref="RunRecord.OutputsLength"/>), when <paramref name="json"/> is a preview.</param>
    /// <param name="truncatedSize">The whole value's size when the text is only its start; null otherwise.</param>
    public static string Preview(string? json, OutputBlob? blob, long? length, out long? truncatedSize)
    {
        if (blob is not null)
        {
            truncatedSize = blob.Size;
            return blob.Preview + "…";
        }

        truncatedSize = null;
        if (json is null)
        {
            return "";
        }

        var preview = OutputColumn.Preview(json);
        if (preview.Length < (length ?? json.Length))
        {
            truncatedSize = length ?? json.Length;
            return preview + "…";
        }

        return preview;
    }
}
