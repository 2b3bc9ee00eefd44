using FlyteSharp.Execution.Kubernetes;
using k8s;
using k8s.Models;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// Runs a Pod manifest with <c>podman kube play</c>: no Kubernetes API server or kubelet can run on this machine, and
/// kube play is the nearest real runtime for Pod specs here (command, args, env, resources.limits applied to the
/// cgroup, restartPolicy). The pod gets the host's network so its container reaches the test registry on 127.0.0.1,
/// as a cluster's pods reach their registry by its address.
/// </summary>
public static class KubePlay
{
    /// <summary>Plays <paramref name="pod"/> (serialized to YAML), waits for its container, returns its exit code and log, and takes it down.</summary>
    public static async Task<(int ExitCode, string Log, string Yaml)> RunAsync(V1Pod pod, string directory)
    {
        pod.Spec.HostNetwork = true;
        var yaml = KubernetesYaml.Serialize(pod);
        var file = Path.Combine(directory, pod.Metadata.Name + ".yaml");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(file, yaml);
        var container = $"{pod.Metadata.Name}-{KubernetesPodSpec.ContainerName}";
        try
        {
            var (played, playOutput) = await Podman.RunAsync("kube", "play", "--tls-verify=false", file);
            Assert.True(played == 0, "podman kube play failed:\n" + playOutput + "\n" + yaml);
            var (_, waited) = await Podman.RunAsync("wait", container);
            var (_, log) = await Podman.RunAsync("logs", container);
            return (int.Parse(waited.Trim().Split('\n')[^1], System.Globalization.CultureInfo.InvariantCulture), log, yaml);
        }
        finally
        {
            await Podman.RunAsync("kube", "down", file);
        }
    }
}
