using FlyteSharp.Processes;
namespace FlyteSharp.Building;

/// <summary>Turns a builder's failed output into an <see cref="ImageBuildException"/> that names the Dockerfile line.</summary>
internal static class BuildFailure
{
    public static ImageBuildException FromOutput(string builder, string dockerfilePath, string output)
    {
        var dockerfile = File.Exists(dockerfilePath) ? File.ReadAllText(dockerfilePath) : "";
        var failing = DockerfileInstructions.FindFailing(dockerfile, output);
        var where = failing is null ? "" : $" at Dockerfile line {failing.Line} ({Shorten(failing.Text)})";
        return new ImageBuildException(
            $"{builder} build failed{where}:\n{Printable(CliProcess.Tail(output, 15))}",
            dockerfilePath,
            failing?.Line,
            failing?.Text,
            output,
            failing is null
                ? "read the builder output above; the build context is kept next to the Dockerfile"
                : "fix that layer of the image definition (the build context is kept next to the Dockerfile)");
    }

    public static ImageBuildException PushFailed(string builder, string imageUri, string output) =>
        new($"{builder} push of {imageUri} failed:\n{Printable(CliProcess.Tail(output, 15))}", null, null, null, output,
            "check that the registry is reachable and that you are logged in (podman login / docker login); " +
            "plain-HTTP registries must be listed in images.insecure_registries");

    private static string Shorten(string text) => Printable(text.Length <= 120 ? text : text[..117] + "...");

    /// <summary>
    /// Builder output as an error message shows it: control characters other than line breaks and tabs become '?', so a
    /// build step's output cannot send escape sequences (OSC 52 clipboard writes, screen clears) to the terminal or page
    /// that prints the error. The build log keeps the bytes.
    /// </summary>
    private static string Printable(string text) =>
        text.Any(IsHidden) ? new string(text.Select(c => IsHidden(c) ? '?' : c).ToArray()) : text;

    private static bool IsHidden(char c) => char.IsControl(c) && c is not '\n' and not '\t';
}
