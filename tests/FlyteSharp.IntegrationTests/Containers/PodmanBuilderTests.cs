using System.Net;
using FlyteSharp.Building;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Containers;

public class PodmanBuilderTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task BuildAsync_RunStepAndPush_TagAppearsInRegistry()
    {
        var ct = TestContext.Current.CancellationToken;
        using var context = new TempDir();
        var tag = "b" + Guid.NewGuid().ToString("N")[..12];
        var uri = $"{registry.Host}/flytesharp-test/builder:{tag}";
        await File.WriteAllTextAsync(context.File("Dockerfile"), $"""
            FROM {BaseImage.Reference}
            RUN echo built > /built.txt
            COPY hello.txt /hello.txt
            """, ct);
        await File.WriteAllTextAsync(context.File("hello.txt"), "hello", ct);
        var lines = new List<string>();

        await new PodmanBuilder().BuildAsync(
            new ImageBuildRequest(context.Path, context.File("Dockerfile"), uri, Push: true, InsecureRegistry: true, lines.Add), ct);

        using var http = new HttpClient();
        using var head = new HttpRequestMessage(HttpMethod.Head, $"{registry.BaseUrl}/v2/flytesharp-test/builder/manifests/{tag}");
        head.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        head.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        using var response = await http.SendAsync(head, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(lines, l => l.Contains("RUN echo built", StringComparison.Ordinal));
        var (code, output) = await Podman.RunAsync("run", "--rm", uri, "cat", "/built.txt", "/hello.txt");
        Assert.Equal(0, code);
        Assert.Equal("built\nhello", output.Trim());
        await Podman.RemoveImageAsync(uri);
    }

    [Fact]
    public async Task BuildAsync_FailingRunStep_NamesDockerfileLineAndBuilderError()
    {
        var ct = TestContext.Current.CancellationToken;
        using var context = new TempDir();
        await File.WriteAllTextAsync(context.File("Dockerfile"), $"""
            FROM {BaseImage.Reference}
            ENV A=1

            RUN echo about to fail && \
                ls /definitely-not-here
            RUN echo never
            """, ct);

        var ex = await Assert.ThrowsAsync<ImageBuildException>(() => new PodmanBuilder().BuildAsync(
            new ImageBuildRequest(context.Path, context.File("Dockerfile"), "localhost/flytesharp-test/fails:1", Push: false), ct));

        Assert.Equal(4, ex.Line);
        Assert.Equal(context.File("Dockerfile"), ex.File);
        Assert.Contains("Dockerfile line 4 (RUN echo about to fail && ls /definitely-not-here)", ex.Message);
        Assert.Contains("No such file or directory", ex.Message);
    }

    [Fact]
    public async Task BuildAsync_UnreachableRegistry_FailsThePushWithLoginHint()
    {
        var ct = TestContext.Current.CancellationToken;
        using var context = new TempDir();
        await File.WriteAllTextAsync(context.File("Dockerfile"), $"FROM {BaseImage.Reference}\nENV B=2\n", ct);

        // Port 9 (discard) on loopback: nothing listens there.
        var ex = await Assert.ThrowsAsync<ImageBuildException>(() => new PodmanBuilder().BuildAsync(
            new ImageBuildRequest(context.Path, context.File("Dockerfile"), "127.0.0.1:9/flytesharp-test/nowhere:1", Push: true, InsecureRegistry: true), ct));

        Assert.Contains("push of 127.0.0.1:9/flytesharp-test/nowhere:1 failed", ex.Message);
        Assert.Contains("connection refused", ex.Message, StringComparison.OrdinalIgnoreCase);
        await Podman.RemoveImageAsync("127.0.0.1:9/flytesharp-test/nowhere:1");
    }
}
