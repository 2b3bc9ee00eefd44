namespace FlyteSharp.Images;

/// <summary>Installs Python packages into the image's venv with <c>uv pip install</c>.</summary>
/// <param name="Packages">Requirement specifiers, e.g. <c>pandas>=2</c>.</param>
/// <param name="IndexUrl">The package index, if not PyPI.</param>
/// <param name="ExtraIndexUrls">Additional indexes.</param>
/// <param name="Prerelease">Allow pre-release versions.</param>
public sealed record PipPackagesLayer(IReadOnlyList<string> Packages, string? IndexUrl, IReadOnlyList<string> ExtraIndexUrls, bool Prerelease) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        plan.Hash.Begin("pip");
        plan.Hash.Field("packages", Packages);
        plan.Hash.Field("index-url", IndexUrl);
        plan.Hash.Field("extra-index-urls", ExtraIndexUrls);
        plan.Hash.Field("prerelease", Prerelease ? "allow" : null);
        plan.Hash.End();
        plan.Run([plan.UvMount, ImageBuildPlan.UvCacheMount],
            string.Join(' ', PipArgs(plan, IndexUrl, ExtraIndexUrls, Prerelease).Concat(Packages).Select(ImageBuildPlan.ShellQuote)));
    }

    internal static IEnumerable<string> PipArgs(ImageBuildPlan plan, string? indexUrl, IReadOnlyList<string> extraIndexUrls, bool prerelease)
    {
        yield return "uv";
        yield return "pip";
        yield return "install";
        yield return "--python";
        yield return plan.PythonExecutable;
        if (indexUrl is not null)
        {
            yield return "--index-url";
            yield return indexUrl;
        }

        foreach (var extra in extraIndexUrls)
        {
            yield return "--extra-index-url";
            yield return extra;
        }

        if (prerelease)
        {
            yield return "--prerelease=allow";
        }
    }
}
