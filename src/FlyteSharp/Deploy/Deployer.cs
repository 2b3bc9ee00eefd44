using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Deploy;

/// <summary>
/// Full-build deploys: resolve each environment's image with the copy style (under <see cref="CopyStyle.None"/>
/// <c>WithCodeBundle()</c> becomes a <c>COPY</c> of the bundle's files), build and push it unless the
/// registry has the tag, and record the deployment under its version. No Python bundle is uploaded; C# tasks of a .NET image
/// without a project layer get their .NET bundle stored and recorded (<see cref="DeployedDotnetTasks"/>). An image whose
/// layers above the last builder layer are only COPY/ENV/WORKDIR (the code layer of <c>WithCodeBundle()</c>, source
/// folders and files, env vars, workdir) is put together through the registry API on top of its base image instead of
/// running a builder (<see cref="RegistryAssembly"/>); the builder then runs only for a base no repository has.
/// </summary>
internal static class Deployer
{
    /// <summary>How an image put together by <see cref="RegistryAssembly"/> was made, as its progress reports it.</summary>
    internal const string RegistryAssemblyStep = "COPY/ENV/WORKDIR layers assembled through the registry API, no builder";

    public static async Task<IReadOnlyList<Deployment>> DeployAsync(
        IReadOnlyList<TaskEnvironment> environments,
        CopyStyle copyStyle,
        string? version,
        FlyteConfig config,
        ImageBuildService? service = null,
        Action<string>? output = null,
        TimeProvider? time = null,
        IImageBuildProgress? progress = null,
        bool registryAssembly = true,
        TimeSpan? checkTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environments);
        if (environments.Count == 0)
        {
            throw new FlyteSharpException("nothing to deploy: no task environments given", fix: "pass the environment(s) to deploy");
        }

        if (copyStyle != CopyStyle.None)
        {
            throw new FlyteSharpException(
                $"deploys bake the code into the image: use CopyStyle.None (got CopyStyle.{copyStyle})",
                fix: "call Flyte.Deploy(env, copyStyle: CopyStyle.None, version: \"1.2.3\"); for fast iteration use Flyte.Run, which ships a bundle per run");
        }

        if (string.IsNullOrWhiteSpace(version))
        {
            throw new FlyteSharpException("a version is required with CopyStyle.None (a full build is a release you must be able to trace)",
                fix: "pass version: \"1.2.3\"; a git commit SHA or tag is recommended (flytesharp deploy --version git)");
        }

        DeployVersion.Validate(version);
        time ??= TimeProvider.System;
        ImageDiagnostics.ThrowIfLockStale(environments.Select(e => e.Image));
        var options = new ImageResolveOptions(config, copyStyle);
        var resolved = new List<(TaskEnvironment Env, ResolvedImage Image)>();
        foreach (var env in environments)
        {
            var image = env.Image.Resolve(options);

            // A C#-only environment of a .NET image needs no WithCodeBundle(): its code is its assemblies (baked or bundled below).
            if (image.CodeDirectory is null && !(env.Image.HasDotnetWorker && env.Tasks.All(t => t.Kind == TaskKind.CSharp)))
            {
                throw new FlyteSharpException(
                    $"environment '{env.Name}' has no WithCodeBundle() layer, so a full build would leave its code out of the image",
                    fix: "end the image definition with .WithCodeBundle() (a no-op in fast deploy, a COPY of the code in full build)");
            }

            resolved.Add((env, image));
        }

        // A taken version is refused before anything is built or pushed (the image tags are known without building).
        var store = DeploymentStore.Open(config.EffectiveRunDatabase, time);
        foreach (var (env, image) in resolved)
        {
            store.EnsureVersionFree(version, env.Name, image.Uri);
        }

        // Before anything is built: where each C# task of a .NET image gets its code when the version runs.
        var dotnetTasks = new Dictionary<TaskEnvironment, IReadOnlyList<DeployedTask>>();
        foreach (var (env, _) in resolved)
        {
            dotnetTasks[env] = await DeployedDotnetTasks.ForAsync(env, config, cancellationToken).ConfigureAwait(false);
            DeployedDotnetTasks.EnsureSameCode(store.Get(version).FirstOrDefault(d => d.Environment == env.Name), dotnetTasks[env]);
        }

        // The task check starts now, on each image's base with the code unpacked over it, and runs while the image is made.
        var check = await DeployCheck.StartAsync(resolved, options, config, time.GetUtcNow(), checkTimeout ?? DeployCheck.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        try
        {
            var assembled = await MakeImagesAsync(resolved, options, config, service, output, time, progress, registryAssembly, cancellationToken).ConfigureAwait(false);
            if (check is not null)
            {
                await check.ConfirmAsync(assembled, cancellationToken).ConfigureAwait(false);
            }

            var now = time.GetUtcNow();
            var deployments = new List<Deployment>();
            foreach (var (env, image) in resolved)
            {
                var deployment = new Deployment(
                    version,
                    env.Name,
                    image.Uri,
                    copyStyle,
                    env.Tasks.Select(t => dotnetTasks[env].FirstOrDefault(d => d.Name == t.Name) ?? new DeployedTask(t.Name, t.Kind, t.Python?.ToString())).ToList(),
                    env.Resources,
                    image.CodeDirectory is null
                        ? $"{Runner.DotnetWorkerCommand.DotnetExecutable} {Runner.DotnetWorkerCommand.EntryPath}"
                        // The workspace's import roots are recorded with the deployment: a deployed run needs no root_dir.
                        : string.Join(' ', new[] { image.PythonExecutable, image.RunnerPath, "--bundle-dir", image.CodeDirectory }
                            .Concat(Execution.Python.PythonImportPaths.Arguments(Execution.Python.PythonImportPaths.For(env.Image, config.RootDir)))),
                    image.CodeDirectory,
                    now);
                deployments.Add(deployment);
            }

            // Unlike a run (where only the root task's check blocks), a deploy checks every Python task of every environment
            // and refuses to record the version if one fails.
            if (check is not null)
            {
                await check.CheckAsync(deployments, config.RootDir).ConfigureAwait(false);
            }

            foreach (var deployment in deployments)
            {
                store.Record(deployment);
            }

            return deployments;
        }
        finally
        {
            if (check is not null)
            {
                await check.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Makes each image: a code edit on top of an image the registry already has is one layer, pushed through the registry
    /// API without a builder; a base no repository has is built once (its own tag); a base in another repository of the
    /// registry (another environment's image with the same dependency layers) has its blobs mounted; the rest is built.
    /// </summary>
    /// <returns>The images put together through the registry API, by URI.</returns>
    private static async Task<Dictionary<string, RegistryAssemblyResult>> MakeImagesAsync(
        List<(TaskEnvironment Env, ResolvedImage Image)> resolved, ImageResolveOptions options, FlyteConfig config, ImageBuildService? service, Action<string>? output,
        TimeProvider time, IImageBuildProgress? progress, bool registryAssembly, CancellationToken cancellationToken)
    {
        var assembled = new Dictionary<string, RegistryAssemblyResult>(StringComparer.Ordinal);
        var toBuild = new List<ImageBuildTarget>();
        var pushed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (env, image) in resolved)
        {
            if (pushed.Contains(image.Uri))
            {
                continue;
            }

            var started = time.GetTimestamp();
            var users = resolved.Where(r => r.Image.Uri == image.Uri).Select(r => r.Env.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var assembly = new RegistryAssemblyOptions
            {
                BaseRepositories = [.. resolved.Where(r => r.Image.Registry == image.Registry).Select(r => r.Image.Repository).Distinct(StringComparer.Ordinal)],
                EnsureBaseAsync = async (baseImage, ct) =>
                {
                    service ??= await ImageBuildServices.CreateAsync(config, time: time, cancellationToken: ct).ConfigureAwait(false);
                    await service.EnsureAsync([ImageBuildTarget.From(baseImage, users)], output: output, progress: progress, cancellationToken: ct).ConfigureAwait(false);
                },
            };
            if (registryAssembly && await RegistryAssembly.TryPushAsync(env.Image, image, options, assembly, output, cancellationToken).ConfigureAwait(false) is { } made)
            {
                pushed.Add(image.Uri);
                assembled[image.Uri] = made;
                progress?.Report(new ImageBuildUpdate(image.Uri, image.Registry, image.Repository, image.Tag, users, ImageBuildStage.Built, time.GetElapsedTime(started))
                {
                    Step = RegistryAssemblyStep,
                });
                continue;
            }

            toBuild.Add(ImageBuildTarget.From(image, env.Name));
        }

        if (toBuild.Count > 0)
        {
            service ??= await ImageBuildServices.CreateAsync(config, time: time, cancellationToken: cancellationToken).ConfigureAwait(false);
            await service.EnsureAsync(toBuild, output: output, progress: progress, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return assembled;
    }
}
