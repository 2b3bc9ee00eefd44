using System.Globalization;
using System.Text;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Tasks;
using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// The Pod for one Python action (or one describe): the environment's image running the runner, resources as
/// requests and limits, <c>restartPolicy: Never</c> (a failed task is reported, not retried behind our back),
/// labels to find FlyteSharp's pods by run, action and task, and the inputs in an environment variable.
/// </summary>
internal static class KubernetesPodSpec
{
    /// <summary>The one container's name.</summary>
    public const string ContainerName = "task";

    /// <summary>The environment variable the runner reads the inputs object from (<c>--inputs-env</c>).</summary>
    public const string InputsVariable = "FLYTESHARP_INPUTS";

    /// <summary>Label keys (values are sanitized to label syntax; the annotations of the same keys hold the exact values).</summary>
    public const string RunLabel = "flytesharp.io/run";

    /// <summary>The action id label.</summary>
    public const string ActionLabel = "flytesharp.io/action";

    /// <summary>The task label (<c>package.module:function</c>, or <c>describe</c>).</summary>
    public const string TaskLabel = "flytesharp.io/task";

    /// <summary>The task environment label.</summary>
    public const string EnvironmentLabel = "flytesharp.io/environment";

    /// <summary>The GPU resource name (the NVIDIA device plugin's).</summary>
    public const string GpuResource = "nvidia.com/gpu";

    /// <summary>Builds the pod.</summary>
    /// <param name="name">The pod's name (DNS-1123 label).</param>
    /// <param name="namespaceName">Its namespace.</param>
    /// <param name="image">The environment's image.</param>
    /// <param name="resources">The environment's resources.</param>
    /// <param name="command">The runner's command line (<see cref="RunnerCommand.For"/>).</param>
    /// <param name="inputsJson">Inputs for a call, or null for describe.</param>
    /// <param name="run">The run's name.</param>
    /// <param name="action">The action's id.</param>
    /// <param name="task">The task reference, or <c>describe</c>.</param>
    /// <param name="environment">The task environment's name.</param>
    /// <param name="envVars">The environment's variables, as plain pod env.</param>
    /// <param name="secrets">
    /// The environment's secrets, as references to Kubernetes Secrets (<see cref="SecretName"/>): an environment variable
    /// from <c>secretKeyRef</c>, a file from a read-only secret volume. The value never passes through FlyteSharp.
    /// </param>
    public static V1Pod Build(
        string name, string namespaceName, ContainerImage image, Resources resources, IReadOnlyList<string> command, string? inputsJson,
        string run, string action, string task, string environment,
        IReadOnlyDictionary<string, string>? envVars = null, IReadOnlyList<Secret>? secrets = null)
    {
        var exact = new Dictionary<string, string>
        {
            [RunLabel] = run,
            [ActionLabel] = action,
            [TaskLabel] = task,
            [EnvironmentLabel] = environment,
        };
        var labels = exact.ToDictionary(kv => kv.Key, kv => LabelValue(kv.Value));
        labels["app.kubernetes.io/managed-by"] = "flytesharp";

        var env = new List<V1EnvVar>
        {
            new() { Name = "PYTHONUNBUFFERED", Value = "1" },
            new() { Name = "PYTHONDONTWRITEBYTECODE", Value = "1" },
        };
        if (inputsJson is not null)
        {
            env.Add(new V1EnvVar { Name = InputsVariable, Value = inputsJson });
        }

        foreach (var (key, value) in envVars ?? new Dictionary<string, string>())
        {
            env.Add(new V1EnvVar { Name = key, Value = value });
        }

        var volumes = new List<V1Volume>();
        var mounts = new List<V1VolumeMount>();
        foreach (var secret in secrets ?? [])
        {
            if (secret.EnvironmentVariable is { } variable)
            {
                env.Add(new V1EnvVar
                {
                    Name = variable,
                    ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = SecretName(secret), Key = secret.Key } },
                });
            }

            if (secret.FilePath is { } file)
            {
                var volume = $"secret-{volumes.Count.ToString(CultureInfo.InvariantCulture)}";
                volumes.Add(new V1Volume
                {
                    Name = volume,
                    Secret = new V1SecretVolumeSource { SecretName = SecretName(secret), Items = [new V1KeyToPath { Key = secret.Key, Path = secret.Key }] },
                });
                mounts.Add(new V1VolumeMount { Name = volume, MountPath = file, SubPath = secret.Key, ReadOnlyProperty = true });
            }
        }

        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = namespaceName, Labels = labels, Annotations = exact },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Never",
                Containers =
                [
                    new V1Container
                    {
                        Name = ContainerName,
                        Image = image.Uri,
                        // Image tags are content hashes: a tag the node already has is the right image.
                        ImagePullPolicy = "IfNotPresent",
                        Command = command.ToList(),
                        Env = env,
                        Resources = Requirements(resources),
                        VolumeMounts = mounts.Count == 0 ? null : mounts,
                    },
                ],
                Volumes = volumes.Count == 0 ? null : volumes,
            },
        };
    }

    /// <summary>
    /// Requests equal limits for CPU, memory and ephemeral storage (the pod gets what it asked for and is killed, not
    /// throttled into swap, above it); GPUs are extended resources, which Kubernetes requires as limits.
    /// </summary>
    public static V1ResourceRequirements? Requirements(Resources resources)
    {
        var requests = new Dictionary<string, ResourceQuantity>();
        var limits = new Dictionary<string, ResourceQuantity>();
        void Both(string key, string? value)
        {
            if (value is not null)
            {
                requests[key] = new ResourceQuantity(value);
                limits[key] = new ResourceQuantity(value);
            }
        }

        Both("cpu", resources.Cpu);
        Both("memory", resources.Memory);
        Both("ephemeral-storage", resources.Disk);
        if (resources.Gpu is { } gpu && gpu != "0")
        {
            limits[GpuResource] = new ResourceQuantity(gpu);
        }

        return limits.Count == 0 ? null : new V1ResourceRequirements { Requests = requests.Count == 0 ? null : requests, Limits = limits };
    }

    /// <summary>
    /// The Kubernetes Secret a secret is read from: its group, else its key, lower-cased with '_' as '-' (Secret names are
    /// DNS subdomains); the Secret's data key is the secret's key.
    /// </summary>
    public static string SecretName(Secret secret) => (secret.Group ?? secret.Key).ToLowerInvariant().Replace('_', '-');

    /// <summary>A pod name: DNS-1123 label (lowercase letters, digits, '-'; at most 63 characters), unique per action.</summary>
    public static string PodName(string run, int sequence, string suffix)
    {
        var safe = DnsLabel(run);
        if (safe.Length > 30)
        {
            safe = safe[..30].TrimEnd('-');
        }

        return $"flytesharp-{safe}-{sequence.ToString(CultureInfo.InvariantCulture)}-{suffix}";
    }

    /// <summary>A label value: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric (or empty).</summary>
    public static string LabelValue(string value)
    {
        var b = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            b.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        }

        var s = b.ToString();
        if (s.Length > 63)
        {
            s = s[..63];
        }

        return s.Trim('-', '_', '.');
    }

    private static string DnsLabel(string value)
    {
        var b = new StringBuilder(value.Length);
        foreach (var c in value.ToLowerInvariant())
        {
            b.Append(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) ? c : '-');
        }

        return b.ToString().Trim('-');
    }
}
