using System.Text.Json;
using System.Text.RegularExpressions;
using FlyteSharp.Cli;
using FlyteSharp.Cli.Progress;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Containers;

public class BuildCommandTests(PodmanCliProject project, BaseImage baseImage) : IClassFixture<PodmanCliProject>
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Build_Twice_SecondSkipsEveryImageAndAsksRegistryOncePerTag()
    {
        using var counter = new CountingHandler(project.Repository);
        BuildCommand.RegistryHandler = counter;
        try
        {
            // --force: the first build builds and pushes even if another test of this class built a tag already.
            var (firstCode, firstOut, firstErr) = await PodmanCliProject.RunAsync("build", project.Root, "--no-build", "--json", "--force");
            var firstRequests = counter.Requests.ToList();
            counter.Requests.Clear();
            var (secondCode, secondOut, secondErr) = await PodmanCliProject.RunAsync("build", project.Root, "--no-build", "--json");

            Assert.True(firstCode == 0, firstOut + firstErr);
            var first = JsonDocument.Parse(firstOut).RootElement.EnumerateArray().ToList();
            Assert.Equal(2, first.Count); // etl and report share one image: one build for that tag
            Assert.All(first, r => Assert.Equal("built", r.GetProperty("status").GetString()));
            Assert.Contains(first, r => r.GetProperty("environments").EnumerateArray().Select(e => e.GetString()).SequenceEqual(["etl", "report"]));
            Assert.Equal(0, secondCode);
            var second = JsonDocument.Parse(secondOut).RootElement.EnumerateArray().ToList();
            Assert.All(second, r => Assert.Equal("skipped-existing", r.GetProperty("status").GetString()));
            var tags = second.Select(r => r.GetProperty("image").GetString()!.Split(':')[^1]).ToList();
            // The second build contacted the registry exactly once per tag: one manifest HEAD each.
            Assert.Equal(
                tags.Select(t => $"HEAD /v2/{project.Repository}/manifests/{t}").Order(),
                counter.Requests.Order());
            // With --json the progress lines go to stderr: stdout above parsed as one JSON document.
            Assert.All(first, r => Assert.Contains($"image     {r.GetProperty("image").GetString()} STEP 1/", firstErr));
            Assert.All(second, r => Assert.Contains($"image     {r.GetProperty("image").GetString()} skipped: registry ", secondErr));
            // The forced build asked the registry only to verify each push.
            Assert.Equal(2, firstRequests.Count(r => r.StartsWith("HEAD ", StringComparison.Ordinal)));
        }
        finally
        {
            BuildCommand.RegistryHandler = null;
        }
    }

    [Fact]
    public async Task Build_Text_ReportsStatusAndTiming()
    {
        var (code, output, error) = await PodmanCliProject.RunAsync("build", project.Root, "--no-build", "--env", "ml");

        Assert.True(code == 0, output + error);
        Assert.Matches(@"(built|skipped-existing)\s+\S+/flytesharp-test/cli\w+:[0-9a-f]{32}\s+\[ml\]\s+\d+\.\ds", output);
        Assert.Contains("1 image(s):", output);
    }

    [Fact]
    public async Task Build_NotATerminal_PrintsOneLinePerStepAndTheResult_SecondBuildPrintsSkipped()
    {
        var (code, output, error) = await PodmanCliProject.RunAsync("build", project.Root, "--no-build", "--env", "ml", "--force");
        var (againCode, again, againError) = await PodmanCliProject.RunAsync("build", project.Root, "--no-build", "--env", "ml");

        Assert.True(code == 0, output + error);
        Assert.DoesNotContain('\u001b', output + error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        var uri = Regex.Match(output, @"^image     (\S+) building for ml$", RegexOptions.Multiline).Groups[1].Value;
        Assert.EndsWith($"/{project.Repository}:" + uri.Split(':')[^1], uri);
        var steps = lines.Where(l => l.StartsWith($"image     {uri} STEP ", StringComparison.Ordinal)).ToList();
        var log = await File.ReadAllLinesAsync(Path.Combine(project.Home, "logs", "builds", uri.Split(':')[^1] + ".log"), TestContext.Current.CancellationToken);
        Assert.Equal(log.Where(l => l.StartsWith("STEP ", StringComparison.Ordinal)).Select(l => $"image     {uri} {PlainBuildProgress.Shorten(l)}"), steps); // one line per step (long RUN lines cut), no builder chatter
        Assert.Equal(
            [$"image     {uri} building for ml", .. steps, $"image     {uri} PUSH {uri}"],
            lines.Take(steps.Count + 2));
        Assert.Matches($@"^image     {Regex.Escape(uri)} built in \d", lines[steps.Count + 2]);
        Assert.Matches($@"^built\s+{Regex.Escape(uri)}\s+\[ml\]", lines[^2]);
        Assert.Equal("1 image(s): 1 built, 0 skipped-existing, 0 failed", lines[^1]);

        Assert.True(againCode == 0, again + againError);
        Assert.Equal(
            [
                $"image     {uri} skipped: registry {uri[..uri.IndexOf('/', StringComparison.Ordinal)]} has tag {uri.Split(':')[^1]}",
                $"skipped-existing {uri}  [ml]",
                "1 image(s): 0 built, 1 skipped-existing, 0 failed",
            ],
            again.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Regex.Replace(l.TrimEnd('\r'), @"  \d+\.\ds$", "")));
    }

    /// <summary>Counts the registry requests that concern one repository (other tests share the registry).</summary>
    private sealed class CountingHandler(string repository) : DelegatingHandler(new SocketsHttpHandler())
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Requests { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.Contains(repository, StringComparison.Ordinal))
            {
                Requests.Enqueue($"{request.Method} {request.RequestUri.AbsolutePath}");
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
