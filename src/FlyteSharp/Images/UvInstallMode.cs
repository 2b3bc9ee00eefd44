namespace FlyteSharp.Images;

/// <summary>How a uv project layer installs the project (the seed's <c>project_install_mode</c>).</summary>
public enum UvInstallMode
{
    /// <summary>
    /// Default: only <c>pyproject.toml</c> and <c>uv.lock</c> (plus path dependencies) enter the build context and
    /// the tag; <c>uv sync --no-install-project</c>. Editing your code never rebuilds the image.
    /// </summary>
    DependenciesOnly = 0,

    /// <summary>
    /// The whole project directory (filtered by <c>.dockerignore</c> and standard ignores) is copied, hashed and
    /// installed as a package. Any code edit rebuilds the image; use only for entry points or compiled extensions.
    /// </summary>
    InstallProject = 1,
}
