using System.Text.Json;
using FlyteSharp.Cli;
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
            var (secondCode, secondOut, _) = await PodmanCliProject.RunAsync("build", project.Root, "--no-build", "--json");

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
