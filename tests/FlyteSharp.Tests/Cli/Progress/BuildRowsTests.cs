using FlyteSharp.Building;
using FlyteSharp.Cli.Progress;
using Spectre.Console;

namespace FlyteSharp.Tests.Cli.Progress;

public class BuildRowsTests
{
    private static ImageBuildUpdate Update(string repository, ImageBuildStage stage, double seconds, string? registry = "localhost:5000") =>
        new($"localhost:5000/{repository}:abc123", registry, repository, "abc123", ["etl"], stage, TimeSpan.FromSeconds(seconds)) { Builder = "podman" };

    [Fact]
    public void Lines_BuildingThenStepsThenEnd_OneRowPerImageWithCurrentStepAndRunningTime()
    {
        var clock = new ManualClock();
        var rows = new BuildRows(clock);

        rows.Report(Update("etl", ImageBuildStage.Building, 0.1));
        rows.Report(Update("etl", ImageBuildStage.Step, 2) with { Step = "STEP 3/7: RUN uv sync [--locked]" });
        rows.Report(Update("ml", ImageBuildStage.SkippedExisting, 0.05));
        clock.Advance(TimeSpan.FromSeconds(10));
        var whileBuilding = Render(rows);
        rows.Report(Update("etl", ImageBuildStage.Step, 30) with { Step = "PUSH localhost:5000/etl:abc123" });
        var whilePushing = Render(rows)[0];
        rows.Report(Update("etl", ImageBuildStage.Built, 41.2));
        var after = Render(rows);

        Assert.Equal(
            ["● building image etl:abc123  STEP 3/7: RUN uv sync [--locked]  12.00 s", "✓ found image ml:abc123 in registry localhost:5000 (skipped)"],
            whileBuilding);
        Assert.Equal("● building image etl:abc123  PUSH to localhost:5000  30.00 s", whilePushing);
        Assert.Equal(["✓ built image etl:abc123 in 41.20 s", "✓ found image ml:abc123 in registry localhost:5000 (skipped)"], after);
    }

    [Fact]
    public void Lines_Failed_KeepsTheLastStep()
    {
        var rows = new BuildRows(new ManualClock());

        rows.Report(Update("etl", ImageBuildStage.Step, 2) with { Step = "STEP 4/7: RUN uv sync" });
        rows.Report(Update("etl", ImageBuildStage.Failed, 3) with { Error = "exit 2 [bold]\ntraceback" });

        Assert.Equal(["✗ failed image etl:abc123 after 3.00 s at STEP 4/7: RUN uv sync"], Render(rows));
    }

    private static List<string> Render(BuildRows rows)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 300;
        console.Write(rows.Renderable());
        Assert.DoesNotContain('\u001b', writer.ToString());
        return writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList();
    }

    [Fact]
    public void Lines_LongTagAndStep_CutSoTheRowFitsOneLine()
    {
        var rows = new BuildRows(new ManualClock());
        var tag = "0caa907c5fabc050e074a11886c5f277";

        rows.Report(new ImageBuildUpdate($"localhost:5000/etl:{tag}", "localhost:5000", "etl", tag, ["etl"], ImageBuildStage.Step, TimeSpan.FromSeconds(1))
        {
            Step = "STEP 5/7: RUN " + new string('x', 200),
        });

        var row = Assert.Single(Render(rows));
        Assert.StartsWith("● building image etl:0caa907c5fab…  STEP 5/7: RUN xxx", row);
        Assert.Contains(new string('x', BuildRows.MaxStepLength - 15) + "…  1.00 s", row);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
