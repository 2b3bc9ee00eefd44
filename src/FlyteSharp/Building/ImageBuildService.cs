using System.Runtime.ExceptionServices;
using System.Text;
using FlyteSharp.Configuration;

namespace FlyteSharp.Building;

/// <summary>
/// Registry-cached builds: for each distinct tag, ask the registry once whether it exists; skip
/// when it does (unless forced); otherwise write the context, build, push, and check the tag is
/// really there afterwards. Images without a registry are checked in the builder's local store.
/// </summary>
internal sealed class ImageBuildService(IImageBuilder builder, IImageTagProbe probe, FlyteConfig config, TimeProvider time)
{
    public IImageBuilder Builder => builder;

    /// <summary>Builds every distinct image among <paramref name="targets"/>, in order of first appearance.</summary>
    /// <param name="targets">Images to ensure; entries with the same URI are built once.</param>
    /// <param name="force">Build even when the tag exists.</param>
    /// <param name="output">Receives the builder's output lines as they come.</param>
    /// <param name="progress">Receives each image's stages: skipped (the registry has the tag), building, each step, built or failed.</param>
    /// <param name="cancellationToken">Stops the current build.</param>
    public async Task<IReadOnlyList<ImageBuildResult>> BuildAsync(
        IEnumerable<ImageBuildTarget> targets, bool force = false, Action<string>? output = null, IImageBuildProgress? progress = null,
        CancellationToken cancellationToken = default)
    {
        var distinct = new List<ImageBuildTarget>();
        foreach (var group in targets.GroupBy(t => t.Uri, StringComparer.Ordinal))
        {
            var environments = group.SelectMany(t => t.Environments).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            distinct.Add(group.First() with { Environments = environments });
        }

        var results = new List<ImageBuildResult>();
        foreach (var target in distinct)
        {
            results.Add(await BuildOneAsync(target, force, output, progress, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    /// <summary>Like <see cref="BuildAsync"/>, but throws the first failure (for runs and deploys that need the images).</summary>
    public async Task<IReadOnlyList<ImageBuildResult>> EnsureAsync(
        IEnumerable<ImageBuildTarget> targets, bool force = false, Action<string>? output = null, IImageBuildProgress? progress = null,
        CancellationToken cancellationToken = default)
    {
        var results = await BuildAsync(targets, force, output, progress, cancellationToken).ConfigureAwait(false);
        if (results.FirstOrDefault(r => r.Status == ImageBuildStatus.Failed) is { } failed)
        {
            throw failed.Exception as FlyteSharpException
                ?? new FlyteSharpException($"image {failed.ImageUri} could not be built: {failed.Error}", inner: failed.Exception);
        }

        return results;
    }

    private async Task<ImageBuildResult> BuildOneAsync(
        ImageBuildTarget target, bool force, Action<string>? output, IImageBuildProgress? progress, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        void Report(ImageBuildStage stage, string? step = null, string? error = null) =>
            progress?.Report(new ImageBuildUpdate(target.Uri, target.Registry, target.Repository, target.Tag, target.Environments, stage, time.GetElapsedTime(started))
            {
                Step = step,
                Error = error,
                Builder = builder.Name,
            });

        var insecure = target.Registry is not null && RegistryTagProbe.IsInsecure(target.Registry, config);
        string? contextDir = null;
        string? logFile = null;
        try
        {
            if (!force && await ExistsAsync(target, cancellationToken).ConfigureAwait(false))
            {
                Report(ImageBuildStage.SkippedExisting);
                return new ImageBuildResult(target.Uri, target.Environments, ImageBuildStatus.SkippedExisting, time.GetElapsedTime(started));
            }

            Report(ImageBuildStage.Building);

            contextDir = Path.Combine(config.Home, "builds", target.Tag + "-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(contextDir);
            await target.WriteContextAsync(contextDir, cancellationToken).ConfigureAwait(false);
            var dockerfile = Path.Combine(contextDir, "Dockerfile");
            if (!File.Exists(dockerfile))
            {
                await File.WriteAllTextAsync(dockerfile, target.Dockerfile, cancellationToken).ConfigureAwait(false);
            }

            var logDir = Path.Combine(config.Home, "logs", "builds");
            Directory.CreateDirectory(logDir);
            logFile = Path.Combine(logDir, target.Tag + ".log");
            var log = new StreamWriter(logFile, append: false, new UTF8Encoding(false));
            await using (log.ConfigureAwait(false))
            {
                var gate = new object();
                void Line(string line)
                {
                    lock (gate)
                    {
                        log.WriteLine(line);
                    }

                    output?.Invoke(line);
                }

                // Steps are reported from the builder's output threads, where an exception would end the process: a
                // failing sink is remembered and its exception thrown here, once the builder is done.
                ExceptionDispatchInfo? sinkFailure = null;
                void Step(string step)
                {
                    try
                    {
                        Report(ImageBuildStage.Step, step: step);
                    }
                    catch (Exception ex)
                    {
                        sinkFailure ??= ExceptionDispatchInfo.Capture(ex);
                    }
                }

                Line($"# {builder.Name} build {target.Uri} for {string.Join(", ", target.Environments)}");
                await builder.BuildAsync(
                    new ImageBuildRequest(contextDir, dockerfile, target.Uri, Push: target.Registry is not null, insecure, Line)
                    {
                        Step = progress is null ? null : Step,
                    },
                    cancellationToken).ConfigureAwait(false);
                sinkFailure?.Throw();
            }

            // A push that "succeeded" but left no tag must not be reported as built.
            if (target.Registry is not null && !await probe.ExistsAsync(target.Registry, target.Repository, target.Tag, cancellationToken).ConfigureAwait(false))
            {
                throw new FlyteSharpException($"{builder.Name} reported pushing {target.Uri}, but the registry does not list the tag",
                    fix: "check the registry's logs and storage; then rebuild with --force");
            }

            TryDelete(contextDir);
            Report(ImageBuildStage.Built);
            return new ImageBuildResult(target.Uri, target.Environments, ImageBuildStatus.Built, time.GetElapsedTime(started), LogFile: logFile);
        }
        catch (Exception ex) when (ex is FlyteSharpException or HttpRequestException or IOException)
        {
            var error = ex is FlyteSharpException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            Report(ImageBuildStage.Failed, error: error);
            return new ImageBuildResult(target.Uri, target.Environments, ImageBuildStatus.Failed, time.GetElapsedTime(started), error, logFile)
            {
                Exception = ex,
            };
        }
        catch (OperationCanceledException)
        {
            if (contextDir is not null)
            {
                TryDelete(contextDir);
            }

            throw;
        }
    }

    private Task<bool> ExistsAsync(ImageBuildTarget target, CancellationToken cancellationToken) =>
        target.Registry is null
            ? builder.ExistsLocallyAsync(target.Uri, cancellationToken)
            : probe.ExistsAsync(target.Registry, target.Repository, target.Tag, cancellationToken);

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // A leftover context under Home/builds is harmless; the next build uses a fresh directory.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
