using FlyteSharp.Building;
using FlyteSharp.Runs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FlyteSharp.Cli.Progress;

/// <summary>
/// Image builds for the live terminal view: one row per image, kept as reports come in (from any thread) and drawn on
/// each refresh — <c>● building image flytesharp:3f2a…  STEP 3/7: RUN uv sync  12.4 s</c> while it builds (the time counts
/// on between steps), then <c>✓ built image … in 41.20 s</c>, <c>✓ found image … in registry localhost:5000 (skipped)</c> or
/// <c>✗ failed image … after 3.10 s at STEP 4/7: …</c>.
/// </summary>
/// <param name="time">The clock the running time is read from.</param>
internal sealed class BuildRows(TimeProvider time) : IImageBuildProgress
{
    /// <summary>Longest step text in a row.</summary>
    internal const int MaxStepLength = 60;

    private readonly Lock _gate = new();
    private readonly List<Row> _rows = [];

    /// <summary>True once any image was reported.</summary>
    public bool Any
    {
        get
        {
            lock (_gate)
            {
                return _rows.Count > 0;
            }
        }
    }

    public void Report(ImageBuildUpdate update)
    {
        var at = time.GetTimestamp();
        lock (_gate)
        {
            var index = _rows.FindIndex(r => r.Update.ImageUri == update.ImageUri);
            // A step keeps the step it names; the final stages keep the last step seen, for a failure's context.
            var step = update.Stage == ImageBuildStage.Step ? update.Step : index >= 0 ? _rows[index].Step : null;
            if (update.Stage == ImageBuildStage.Built)
            {
                step = update.Step; // how it was made when no builder ran; a built image's last step says nothing more
            }

            var row = new Row(update, step, at);
            if (index >= 0)
            {
                _rows[index] = row;
            }
            else
            {
                _rows.Add(row);
            }
        }
    }

    /// <summary>The rows as Spectre.Console markup (every reported value escaped).</summary>
    public IReadOnlyList<string> Lines()
    {
        List<Row> rows;
        lock (_gate)
        {
            rows = [.. _rows];
        }

        return rows.Select(Line).ToList();
    }

    /// <summary>The rows as one renderable.</summary>
    public IRenderable Renderable() => new Rows(Lines().Select(l => new Markup(l)));

    private string Line(Row row)
    {
        var u = row.Update;
        var image = $"image [bold]{Markup.Escape(u.Repository)}:{Markup.Escape(ShortTag(u.Tag))}[/]";
        return u.Stage switch
        {
            ImageBuildStage.Building or ImageBuildStage.Step =>
                $"[yellow]● building[/] {image}  {Markup.Escape(PlainProgress.Printable(Shorten(StepText(row.Step, u))))}  " +
                $"[grey]{Markup.Escape(RunText.Duration(u.Elapsed + time.GetElapsedTime(row.At)))}[/]",
            ImageBuildStage.Built => $"[green]✓ built[/] {image} in {Markup.Escape(RunText.Duration(u.Elapsed))}" +
                (row.Step is { } how ? $" [grey]({Markup.Escape(how)})[/]" : ""),
            ImageBuildStage.SkippedExisting => $"[blue]✓ found[/] {image} {Markup.Escape(Found(u))} (skipped)",
            _ => $"[red]✗ failed[/] {image} after {Markup.Escape(RunText.Duration(u.Elapsed))}" +
                // The error itself follows the view in full (the command's "error:" or its result table).
                (row.Step is { } last ? $" at {Markup.Escape(PlainProgress.Printable(Shorten(StepText(last, u))))}" : ""),
        };
    }

    /// <summary>A content tag cut to its first 12 characters: a row stays on one line of a terminal, and 12 hex digits still tell images apart.</summary>
    internal static string ShortTag(string tag) => tag.Length > 13 ? tag[..12] + "…" : tag;

    // A row per image stays on one terminal line while it builds; the plain lines and the build log keep the whole step.
    private static string Shorten(string step) => step.Length > MaxStepLength ? step[..(MaxStepLength - 1)] + "…" : step;

    // The push names the whole image reference, which the row already shows: its registry is what is left to say.
    private static string StepText(string? step, ImageBuildUpdate update) =>
        step is null ? "starting"
        : step == "PUSH " + update.ImageUri ? $"PUSH to {update.Registry ?? "the registry"}"
        : step;

    private static string Found(ImageBuildUpdate update) => update.Registry is { } registry
        ? $"in registry {registry}"
        : $"in {update.Builder ?? "the builder"}'s local store";

    private sealed record Row(ImageBuildUpdate Update, string? Step, long At);
}
