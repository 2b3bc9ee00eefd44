using System.Runtime.CompilerServices;

namespace FlyteSharp;

/// <summary>
/// Paths relative to the C# source file that asks, like Python's <c>pathlib.Path(__file__).parent</c>.
/// The compiler fills in the caller's file path, so environment definitions can name
/// <c>pyproject.toml</c> and source folders without depending on the current directory.
/// </summary>
public static class SourceLocation
{
    /// <summary>The full path of the calling source file.</summary>
    /// <param name="callerFile">Filled in by the compiler; do not pass.</param>
    public static string File([CallerFilePath] string callerFile = "") => Require(callerFile);

    /// <summary>The directory of the calling source file.</summary>
    /// <param name="callerFile">Filled in by the compiler; do not pass.</param>
    public static string Directory([CallerFilePath] string callerFile = "") =>
        Path.GetDirectoryName(Require(callerFile))!;

    /// <summary>A path relative to the directory of the calling source file, normalized (".." resolved).</summary>
    /// <param name="relativePath">E.g. <c>"../pyproject.toml"</c>.</param>
    /// <param name="callerFile">Filled in by the compiler; do not pass.</param>
    public static string Combine(string relativePath, [CallerFilePath] string callerFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Require(callerFile))!, relativePath));

    private static string Require(string callerFile) =>
        string.IsNullOrEmpty(callerFile) || !Path.IsPathRooted(callerFile)
            ? throw new FlyteSharpException("the caller's source file path is not known (was it compiled with a path map?)",
                fix: "build without PathMap/ContinuousIntegrationBuild, or pass absolute paths")
            : callerFile;
}
