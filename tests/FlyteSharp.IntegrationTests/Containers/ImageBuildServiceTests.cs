using FlyteSharp.Building;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Containers;

public class ImageBuildServiceTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task BuildAsync_SharedTagThenRepeat_BuildsOnceThenSkips()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var image = Image.FromDebianBase("3.11").WithEnvVars(new Dictionary<string, string> { ["ROLE"] = project.Repository }).Resolve(new ImageResolveOptions(project.Config));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);

        var first = await service.BuildAsync([ImageBuildTarget.From(image, "a"), ImageBuildTarget.From(image, "b")], cancellationToken: ct);
        var second = await service.BuildAsync([ImageBuildTarget.From(image, "a")], cancellationToken: ct);
        var forced = await service.BuildAsync([ImageBuildTarget.From(image, "a")], force: true, cancellationToken: ct);

        var built = Assert.Single(first);
        Assert.Equal((ImageBuildStatus.Built, image.Uri), (built.Status, built.ImageUri));
        Assert.Equal(["a", "b"], built.Environments);
        Assert.True(File.Exists(built.LogFile), "the builder's output was not captured");
        Assert.Contains("STEP", await File.ReadAllTextAsync(built.LogFile!, ct));
        Assert.Equal(ImageBuildStatus.SkippedExisting, Assert.Single(second).Status);
        Assert.Equal(ImageBuildStatus.Built, Assert.Single(forced).Status);
        Assert.True(await Podman.ImageExistsAsync(image.Uri));
    }

    [Fact]
    public async Task BuildAsync_WithProgress_ReportsBuildingEachStepPushAndBuiltThenSkippedWithRegistryAndTag()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var image = Image.FromDebianBase("3.11").WithEnvVars(new Dictionary<string, string> { ["ROLE"] = project.Repository }).Resolve(new ImageResolveOptions(project.Config));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);
        var progress = new RecordingBuildProgress();

        var built = Assert.Single(await service.BuildAsync([ImageBuildTarget.From(image, "a")], progress: progress, cancellationToken: ct));
        var first = progress.Updates;
        progress.Clear();
        await service.BuildAsync([ImageBuildTarget.From(image, "a")], progress: progress, cancellationToken: ct);
        var second = progress.Updates;

        Assert.All(first, u => Assert.Equal((image.Uri, image.Tag, (string?)project.Config.Registry), (u.ImageUri, u.Tag, u.Registry)));
        Assert.Equal(ImageBuildStage.Building, first[0].Stage);
        Assert.Equal(ImageBuildStage.Built, first[^1].Stage);
        var steps = first.Where(u => u.Stage == ImageBuildStage.Step).Select(u => u.Step!).ToList();
        Assert.Equal(first.Count - 2, steps.Count);
        // One report per step podman printed (the log has them all), in order, then the push.
        var logged = (await File.ReadAllLinesAsync(built.LogFile!, ct)).Where(l => l.StartsWith("STEP ", StringComparison.Ordinal)).ToList();
        Assert.True(logged.Count >= 2, string.Join("\n", logged));
        Assert.Equal([.. logged, "PUSH " + image.Uri], steps);
        Assert.StartsWith($"STEP 1/{logged.Count}: FROM ", steps[0]);
        Assert.True(first.Select(u => u.Elapsed).SequenceEqual(first.Select(u => u.Elapsed).Order()), "elapsed time went backwards");
        var skipped = Assert.Single(second);
        Assert.Equal((ImageBuildStage.SkippedExisting, image.Uri, image.Tag, (string?)project.Config.Registry), (skipped.Stage, skipped.ImageUri, skipped.Tag, skipped.Registry));
    }

    [Fact]
    public async Task BuildAsync_StepPrintsTerminalEscapesAndFails_ErrorShowsThemAsQuestionMarksAndTheLogKeepsThem()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        // A hostile (or merely colourful) build step: an OSC title/clipboard sequence, a screen clear, a bell.
        var image = Image.FromDebianBase("3.11").WithEnvVars(new Dictionary<string, string> { ["ROLE"] = project.Repository })
            .WithCommands("printf 'pwn\\033]52;c;aGk=\\007ed\\033[2Jhere\\n'; exit 3").Resolve(new ImageResolveOptions(project.Config));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);

        var result = Assert.Single(await service.BuildAsync([ImageBuildTarget.From(image, "a")], cancellationToken: ct));

        Assert.Equal(ImageBuildStatus.Failed, result.Status);
        Assert.Contains("pwn?]52;c;aGk=?ed?[2Jhere", result.Error);
        Assert.DoesNotContain(result.Error!, c => char.IsControl(c) && c is not '\n');
        Assert.DoesNotContain(result.Exception!.Message, c => char.IsControl(c) && c is not '\n');
        Assert.Contains("pwn\u001b]52;c;aGk=\u0007ed\u001b[2Jhere", await File.ReadAllTextAsync(result.LogFile!, ct));
    }

    [Fact]
    public async Task BuildAsync_ProgressThrowsOnAStep_BuildThrowsThatExceptionInsteadOfEndingTheProcess()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var image = Image.FromDebianBase("3.11").WithEnvVars(new Dictionary<string, string> { ["ROLE"] = project.Repository }).Resolve(new ImageResolveOptions(project.Config));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);

        // Step reports come from the builder's output threads: thrown there unguarded, this would end the test host.
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => service.BuildAsync([ImageBuildTarget.From(image, "a")], progress: new ThrowingOnStep(), cancellationToken: ct));

        Assert.Equal("the view is gone", ex.Message);
    }

    [Fact]
    public async Task BuildAsync_RegistryUnreachable_FailsWithoutBuilding()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.Config = project.Config with { Registry = "127.0.0.1:9", InsecureRegistries = ["127.0.0.1:9"] };
        var image = Image.FromDebianBase("3.11").Resolve(new ImageResolveOptions(project.Config));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);

        var result = Assert.Single(await service.BuildAsync([ImageBuildTarget.From(image, "a")], cancellationToken: ct));

        Assert.Equal(ImageBuildStatus.Failed, result.Status);
        Assert.Contains("127.0.0.1:9", result.Error);
        Assert.Null(result.LogFile); // nothing was built or pushed
        var progress = new RecordingBuildProgress();
        await Assert.ThrowsAsync<FlyteSharpException>(() => service.EnsureAsync([ImageBuildTarget.From(image, "a")], progress: progress, cancellationToken: ct));
        var failed = Assert.Single(progress.Updates);
        Assert.Equal(ImageBuildStage.Failed, failed.Stage);
        Assert.Contains("127.0.0.1:9", failed.Error);
        await Assert.ThrowsAsync<FlyteSharpException>(() => service.EnsureAsync([ImageBuildTarget.From(image, "a")], cancellationToken: ct));
    }

    private sealed class ThrowingOnStep : IImageBuildProgress
    {
        public void Report(ImageBuildUpdate update)
        {
            if (update.Stage == ImageBuildStage.Step)
            {
                throw new InvalidOperationException("the view is gone");
            }
        }
    }
}
