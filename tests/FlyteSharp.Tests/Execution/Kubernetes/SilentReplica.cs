namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>
/// A replica that pulls its first call and then neither replies nor sends heartbeats (a hung node, a cut network) while
/// its process stays up: the runner's and the worker's pull arguments, none of their answers.
/// </summary>
internal static class SilentReplica
{
    /// <summary>Writes the script to <paramref name="path"/> and returns the path.</summary>
    public static async Task<string> WriteAsync(string path, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(path, """
            import sys, time, urllib.request
            args = sys.argv
            base = args[args.index("--serve-pull") + 1].rstrip("/") + "/v1/replicas/" + args[args.index("--replica") + 1]
            token = open(args[args.index("--controller-token-file") + 1]).read().strip()
            while True:
                request = urllib.request.Request(base + "/next", headers={"Authorization": "Bearer " + token})
                with urllib.request.urlopen(request, timeout=40) as response:
                    if response.status == 200:
                        time.sleep(600)
            """.ReplaceLineEndings("\n"), cancellationToken);
        return path;
    }
}
