using FlyteSharp.Building;
using FlyteSharp.Runs;

namespace FlyteSharp.Cli.Progress;

/// <summary>
/// Image builds as plain lines (no escape codes), one per stage and per builder step, each starting with <c>image</c> and
/// the image reference so CI logs can be searched per image:
/// <code>
/// image     localhost:5000/flytesharp:3f2a… building for etl, report
/// image     localhost:5000/flytesharp:3f2a… STEP 3/7: RUN uv sync --locked
/// image     localhost:5000/flytesharp:3f2a… built in 41.20 s
/// image     localhost:5000/flytesharp:9d11… skipped: registry localhost:5000 has tag 9d11…
/// </code>
/// </summary>
/// <param name="output">Where lines go; shared with other writers it must be synchronized (<see cref="TextWriter.Synchronized"/>).</param>
internal sealed class PlainBuildProgress(TextWriter output) : IImageBuildProgress
{
    /// <summary>Longest step text printed; a longer RUN line is cut with "...".</summary>
    internal const int MaxStepLength = 160;

    public void Report(ImageBuildUpdate update) => output.WriteLine(Line(update));

    /// <summary>The line for <paramref name="update"/>; builder and error text have control characters shown as '?'.</summary>
    internal static string Line(ImageBuildUpdate update)
    {
        var what = update.Stage switch
        {
            ImageBuildStage.Building => $"building for {string.Join(", ", update.Environments)}",
            ImageBuildStage.Step => Shorten(update.Step ?? ""),
            ImageBuildStage.Built => $"built in {RunText.Duration(update.Elapsed)}{(update.Step is { } how ? $" ({how})" : "")}",
            ImageBuildStage.SkippedExisting => "skipped: " + Skipped(update),
            _ => $"failed after {RunText.Duration(update.Elapsed)}: {RunProgress.FirstLine(update.Error ?? "")}",
        };
        return PlainProgress.Printable($"image     {update.ImageUri} {what}");
    }

    /// <summary>Where the tag was found: the registry, or for an image without one, the builder's local store.</summary>
    internal static string Skipped(ImageBuildUpdate update) => update.Registry is { } registry
        ? $"registry {registry} has tag {update.Tag}"
        : $"{update.Builder ?? "the builder"}'s local store has tag {update.Tag}";

    internal static string Shorten(string step) => step.Length > MaxStepLength ? step[..(MaxStepLength - 3)] + "..." : step;
}
