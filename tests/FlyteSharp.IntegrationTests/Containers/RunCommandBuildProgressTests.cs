using System.Text.Json;
using System.Text.RegularExpressions;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// <c>flytesharp run --mode container</c> not on a terminal (the in-process CLI writes to string writers): the image build
/// the run needs shows as plain step lines before the run's own lines. A class of its own, so its fixture's repository
/// is fresh and the first run really builds.
/// </summary>
public class RunCommandBuildProgressTests(PodmanCliProject project, BaseImage baseImage) : IClassFixture<PodmanCliProject>
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Run_ContainerModeFreshImageNotATerminal_PrintsBuildStepsThenSkippedNextTimeAndJsonStaysPure()
    {
        var (code, output, error) = await PodmanCliProject.RunAsync("run", project.Root, "sum_of_squares", "--no-build", "--mode", "container", "--input", "n=2");
        var (againCode, again, againError) = await PodmanCliProject.RunAsync("run", project.Root, "sum_of_squares", "--no-build", "--mode", "container", "--input", "n=2", "--json");

        Assert.True(code == 0, output + error);
        Assert.DoesNotContain('\u001b', output);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var image = Regex.Match(output, $@"^image     (\S+/{Regex.Escape(project.Repository)}:([0-9a-f]{{32}})) building for etl$", RegexOptions.Multiline);
        Assert.True(image.Success, output);
        var uri = image.Groups[1].Value;
        var steps = lines.Where(l => l.StartsWith($"image     {uri} STEP ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(steps);
        Assert.Matches(@" STEP 1/\d+: FROM ", steps[0]);
        Assert.Contains($"image     {uri} PUSH {uri}", lines);
        var built = lines.FindIndex(l => Regex.IsMatch(l, $@"^image     {Regex.Escape(uri)} built in \d"));
        Assert.True(built > 0, output);
        Assert.True(built < lines.FindIndex(l => l.StartsWith("run:", StringComparison.Ordinal)), "the pre-run build should print before the run starts");
        Assert.Contains("outputs: 5", output);

        Assert.True(againCode == 0, again + againError);
        Assert.Equal("succeeded", JsonDocument.Parse(again).RootElement.GetProperty("status").GetString());
        Assert.DoesNotContain('\u001b', againError);
        Assert.Contains($"image     {uri} skipped: registry {uri[..uri.IndexOf('/', StringComparison.Ordinal)]} has tag {image.Groups[2].Value}", againError);
        Assert.DoesNotContain(" STEP ", againError);
    }
}
