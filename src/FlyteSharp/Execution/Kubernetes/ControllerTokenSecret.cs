using System.Globalization;
using FlyteSharp.Controller;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Runs;
using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// How a run's controller token reaches its Pods: one Kubernetes Secret per run in the run's namespace, owner-labelled
/// (run, host, pid, start, as containers are), mounted read-only into each C# Pod as the file the worker reads
/// (<see cref="ControllerProtocol.ContainerTokenPath"/>). The token's value is in the Secret only — never a literal in a
/// Pod spec, a command line, a log or a record. Deleted when the run ends; <c>flytesharp runs gc</c> deletes those of
/// gone drivers.
/// </summary>
internal static class ControllerTokenSecret
{
    /// <summary>The Secret's data key: the file name the worker reads in the mounted directory.</summary>
    public static readonly string DataKey = Path.GetFileName(ControllerProtocol.ContainerTokenPath);

    /// <summary>The directory the Secret is mounted at.</summary>
    public static readonly string MountDirectory = Path.GetDirectoryName(ControllerProtocol.ContainerTokenPath)!.Replace('\\', '/');

    /// <summary>The Pod volume that carries the Secret.</summary>
    public const string VolumeName = "flytesharp-controller";

    /// <summary>Label key saying what a FlyteSharp object is for.</summary>
    public const string ComponentLabel = "flytesharp.io/component";

    /// <summary>The component label's value on controller token Secrets.</summary>
    public const string Component = "controller-token";

    /// <summary>Label (and annotation) keys naming the driver process that created the Secret.</summary>
    public const string OwnerHostKey = "flytesharp.io/owner-host";

    /// <summary>The owner's process id.</summary>
    public const string OwnerPidKey = "flytesharp.io/owner-pid";

    /// <summary>The owner's start time (as the run store records run owners).</summary>
    public const string OwnerStartKey = "flytesharp.io/owner-start";

    /// <summary>The label selector that finds every controller token Secret.</summary>
    public static string Selector => $"{ComponentLabel}={Component}";

    /// <summary>A Secret name for <paramref name="run"/>: DNS-1123, unique per run start (random suffix).</summary>
    public static string NameFor(string run) =>
        KubernetesPodSpec.PodName(run, 0, "ctl" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)));

    /// <summary>The Secret holding <paramref name="token"/> for <paramref name="run"/>, owned by this process.</summary>
    public static V1Secret Build(string name, string namespaceName, string run, ControllerToken token)
    {
        var metadata = new V1ObjectMeta { Name = name, NamespaceProperty = namespaceName };
        AddOwner(metadata, run, Component);
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Type = "Opaque",
            Metadata = metadata,
            Data = new Dictionary<string, byte[]> { [DataKey] = System.Text.Encoding.ASCII.GetBytes(token.Value) },
        };
    }

    /// <summary>
    /// Labels (and annotations, with the exact values) naming this driver process and <paramref name="run"/> as the
    /// object's owner, and <paramref name="component"/> as what it is for: how <c>flytesharp runs gc</c> finds the token
    /// Secrets and replica Pods a gone driver left behind.
    /// </summary>
    public static void AddOwner(V1ObjectMeta metadata, string run, string component)
    {
        var owner = new Dictionary<string, string>
        {
            [KubernetesPodSpec.RunLabel] = run,
            [OwnerHostKey] = RunStore.Self.Host,
            [OwnerPidKey] = RunStore.Self.Pid.ToString(CultureInfo.InvariantCulture),
            [OwnerStartKey] = RunStore.Self.Start.ToString(CultureInfo.InvariantCulture),
        };
        metadata.Labels ??= new Dictionary<string, string>();
        metadata.Annotations ??= new Dictionary<string, string>();
        foreach (var (key, value) in owner)
        {
            metadata.Labels[key] = KubernetesPodSpec.LabelValue(value);
            metadata.Annotations[key] = value;
        }

        metadata.Labels[ComponentLabel] = component;
        metadata.Labels["app.kubernetes.io/managed-by"] = "flytesharp";
    }

    /// <summary>Mounts Secret <paramref name="secretName"/> read-only (0400) at <see cref="MountDirectory"/> in <paramref name="pod"/>'s container.</summary>
    public static void Reference(V1Pod pod, string secretName)
    {
        pod.Spec.Volumes ??= [];
        pod.Spec.Volumes.Add(new V1Volume
        {
            Name = VolumeName,
            Secret = new V1SecretVolumeSource
            {
                SecretName = secretName,
                DefaultMode = Convert.ToInt32("400", 8),
                // Explicit: podman kube play (the runtime the tests use) dereferences it.
                Optional = false,
            },
        });
        var container = pod.Spec.Containers.Single(c => c.Name == KubernetesPodSpec.ContainerName);
        container.VolumeMounts ??= [];
        container.VolumeMounts.Add(new V1VolumeMount { Name = VolumeName, MountPath = MountDirectory, ReadOnlyProperty = true });
    }

    /// <summary>The owner recorded on a Secret (from its annotations), or null when they are missing or malformed.</summary>
    public static (string Host, int Pid, long Start, string Run)? OwnerOf(V1Secret secret) => OwnerOf(secret.Metadata);

    /// <summary>The owner recorded on an object (from its annotations), or null when they are missing or malformed.</summary>
    public static (string Host, int Pid, long Start, string Run)? OwnerOf(V1ObjectMeta? metadata)
    {
        var a = metadata?.Annotations;
        if (a is null || !a.TryGetValue(OwnerHostKey, out var host) || !a.TryGetValue(KubernetesPodSpec.RunLabel, out var run)
            || !a.TryGetValue(OwnerPidKey, out var pidText) || !int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !a.TryGetValue(OwnerStartKey, out var startText) || !long.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        return (host, pid, start, run);
    }
}
