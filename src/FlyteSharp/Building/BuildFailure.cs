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
            $"{builder} build failed{where}:\n{CliProcess.Tail(output, 15)}",
            dockerfilePath,
            failing?.Line,
            failing?.Text,
            output,
            failing is null
                ? "read the builder output above; the build context is kept next to the Dockerfile"
                : "fix that layer of the image definition (the build context is kept next to the Dockerfile)");
    }

    public static ImageBuildException PushFailed(string builder, string imageUri, string output) =>
        new($"{builder} push of {imageUri} failed:\n{CliProcess.Tail(output, 15)}", null, null, null, output,
            "check that the registry is reachable and that you are logged in (podman login / docker login); " +
            "plain-HTTP registries must be listed in images.insecure_registries");

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";
}
