using System.Globalization;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// One container for one Python action (or one describe): turned into the <c>podman run</c> /
/// <c>docker run</c> argument list by <see cref="Arguments"/>. Environment variables go in as <c>--env</c> (they are
/// recorded anyway); secrets only as read-only mounted files (<see cref="SecretMounts"/>), so no value is in the
/// container's configuration (<c>podman inspect</c>).
/// </summary>
internal sealed record ContainerRunSpec(
    string Runtime,
    string Name,
    ContainerImage Image,
    Resources Resources,
    string IoDirectory,
    ContainerBundleSource? Bundle,
    string? BundleDigest,
    IReadOnlyList<string> RunnerArguments,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string>? EnvVars = null,
    IReadOnlyList<KeyValuePair<string, string>>? SecretMounts = null,
    string? BundleAuthFile = null)
{
    /// <summary>
    /// The command the container runs, when it is not the Python runner (<see cref="RunnerCommand.For"/> of
    /// <see cref="RunnerArguments"/>): the .NET worker's command line.
    /// </summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>More read-only bind mounts (host path, container path), e.g. the controller API's socket and token.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraMounts { get; init; } = [];

    /// <summary>
    /// Sent to the container's stdin (attached with <c>--interactive</c>) and then closed, or null for no stdin: a container
    /// started before its inputs are known reads them from here (the runner's <c>--inputs -</c>).
    /// </summary>
    public Stream? StandardInput { get; init; }

    /// <summary>
    /// Runs the container without a network (<c>--network none</c>): a describe of code already in the container needs
    /// none, and setting up the default bridge costs a few hundred milliseconds per container here.
    /// </summary>
    public bool NoNetwork { get; init; }

    /// <summary>
    /// The runtime removes the container when it exits (<c>--rm</c>): one process instead of <c>run</c> then <c>rm</c>,
    /// for a container whose exit state nobody inspects afterwards.
    /// </summary>
    public bool RemoveOnExit { get; init; }

    /// <summary>Where the action's inputs/outputs directory is mounted.</summary>
    public const string IoMount = "/flytesharp/io";

    /// <summary>Where the runner unpacks the bundle inside the container.</summary>
    public const string BundleDirectory = RunnerCommand.BundleDirectory;

    /// <summary>
    /// The runtime's arguments. The container is not <c>--rm</c>: the executor inspects it after exit
    /// (the out-of-memory flag) and removes it itself.
    /// </summary>
    public IReadOnlyList<string> Arguments()
    {
        var args = new List<string> { "run", "--name", Name, "--pull", "missing" };
        if (RemoveOnExit)
        {
            args.Add("--rm");
        }

        if (StandardInput is not null)
        {
            args.Add("--interactive");
        }

        foreach (var (key, value) in Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            args.Add("--label");
            args.Add($"{key}={value}");
        }

        if (Resources.CpuCores is { } cpus)
        {
            args.Add("--cpus");
            args.Add(cpus.ToString("0.###", CultureInfo.InvariantCulture));
        }

        if (Resources.MemoryBytes is { } memory)
        {
            // Same swap limit: a task over its memory is killed, not slowed down by swapping.
            args.Add("--memory");
            args.Add(memory.ToString(CultureInfo.InvariantCulture) + "b");
            args.Add("--memory-swap");
            args.Add(memory.ToString(CultureInfo.InvariantCulture) + "b");
        }

        if (Image.InsecureRegistry && Runtime == "podman")
        {
            args.Add("--tls-verify=false");
        }

        if (NoNetwork)
        {
            args.Add("--network");
            args.Add("none");
        }
        else if (Bundle?.HostNetwork == true)
        {
            args.Add("--network");
            args.Add("host");
        }

        args.Add("--volume");
        args.Add($"{IoDirectory}:{IoMount}");
        foreach (var (host, container) in Bundle?.Mounts ?? [])
        {
            args.Add("--volume");
            args.Add($"{host}:{container}:ro");
        }

        // Private store credentials: a read-only file, never an argument or environment variable (`podman inspect` shows those).
        if (BundleAuthFile is not null)
        {
            args.Add("--volume");
            args.Add($"{BundleAuthFile}:{RunnerCommand.BundleAuthFile}:ro");
        }

        foreach (var (host, container) in (SecretMounts ?? []).Concat(ExtraMounts))
        {
            args.Add("--volume");
            args.Add($"{host}:{container}:ro");
        }

        foreach (var (name, value) in EnvVars ?? new Dictionary<string, string>())
        {
            args.Add("--env");
            args.Add($"{name}={value}");
        }

        args.Add("--env");
        args.Add("PYTHONUNBUFFERED=1");
        args.Add("--env");
        args.Add("PYTHONDONTWRITEBYTECODE=1");
        args.Add(Image.Uri);
        args.AddRange(Command ?? RunnerCommand.For(Image, Bundle, BundleDigest, RunnerArguments, withAuthFile: BundleAuthFile is not null));
        return args;
    }
}
