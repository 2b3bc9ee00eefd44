using FlyteSharp.Building;
using FlyteSharp.Cli.Progress;

namespace FlyteSharp.Tests.Cli.Progress;

public class PlainBuildProgressTests
{
    private const string Uri = "localhost:5000/flytesharp:0c5e7a";

    private static ImageBuildUpdate Update(ImageBuildStage stage, double seconds = 0, string? registry = "localhost:5000") =>
        new(Uri, registry, "flytesharp", "0c5e7a", ["etl", "report"], stage, TimeSpan.FromSeconds(seconds)) { Builder = "podman" };

    [Fact]
    public void Report_EachStage_OneLineNamingTheImage()
    {
        var output = new StringWriter();
        var progress = new PlainBuildProgress(output);

        progress.Report(Update(ImageBuildStage.Building));
        progress.Report(Update(ImageBuildStage.Step) with { Step = "STEP 3/7: RUN uv sync --locked" });
        progress.Report(Update(ImageBuildStage.Step) with { Step = "PUSH " + Uri });
        progress.Report(Update(ImageBuildStage.Built, 41.2));
        progress.Report(Update(ImageBuildStage.Built, 0.5) with { Step = "code layer pushed through the registry API, no builder" });
        progress.Report(Update(ImageBuildStage.SkippedExisting, 0.02));
        progress.Report(Update(ImageBuildStage.SkippedExisting, registry: null));
        progress.Report(Update(ImageBuildStage.Failed, 3.1) with { Error = "RUN uv sync failed: exit 1\nmore detail" });

        Assert.Equal(
            [
                $"image     {Uri} building for etl, report",
                $"image     {Uri} STEP 3/7: RUN uv sync --locked",
                $"image     {Uri} PUSH {Uri}",
                $"image     {Uri} built in 41.20 s",
                $"image     {Uri} built in 500 ms (code layer pushed through the registry API, no builder)",
                $"image     {Uri} skipped: registry localhost:5000 has tag 0c5e7a",
                $"image     {Uri} skipped: podman's local store has tag 0c5e7a",
                $"image     {Uri} failed after 3.10 s: RUN uv sync failed: exit 1",
            ],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void Line_StepWithEscapeCodesAndHugeCommand_PrintableAndCut()
    {
        var line = PlainBuildProgress.Line(Update(ImageBuildStage.Step) with { Step = "STEP 2/3: RUN echo \u001b[31mred" + new string('x', 500) });

        Assert.DoesNotContain('\u001b', line);
        Assert.Contains("RUN echo ?[31mred", line);
        Assert.EndsWith("...", line);
        Assert.Equal($"image     {Uri} ".Length + PlainBuildProgress.MaxStepLength, line.Length);
    }
}
