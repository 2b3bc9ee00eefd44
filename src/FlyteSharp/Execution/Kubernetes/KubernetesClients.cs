using FlyteSharp.Configuration;
using k8s;
using k8s.Exceptions;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>Opens the Kubernetes API client of <c>kubernetes</c> mode from FlyteSharp's <c>[kubernetes]</c> settings.</summary>
internal static class KubernetesClients
{
    /// <summary>
    /// The client configuration: <see cref="FlyteConfig.KubeConfig"/> (and its context) when set, else the client's
    /// defaults (<c>$KUBECONFIG</c>, <c>~/.kube/config</c>, or the service account inside a cluster).
    /// </summary>
    public static KubernetesClientConfiguration Configuration(FlyteConfig config)
    {
        try
        {
            if (config.KubeConfig is { } path)
            {
                if (!File.Exists(path))
                {
                    throw new FlyteSharpException("kubeconfig file not found", path,
                        fix: "point [kubernetes] kubeconfig (or FLYTESHARP_KUBECONFIG) at an existing kubeconfig, or remove it to use ~/.kube/config");
                }

                return KubernetesClientConfiguration.BuildConfigFromConfigFile(path, config.KubernetesContext);
            }

            if (config.KubernetesContext is { } context)
            {
                return KubernetesClientConfiguration.BuildConfigFromConfigFile(currentContext: context);
            }

            return KubernetesClientConfiguration.BuildDefaultConfig();
        }
        catch (KubeConfigException ex)
        {
            throw new FlyteSharpException($"no usable Kubernetes configuration: {ex.Message}", config.KubeConfig ?? config.SourceFile,
                fix: "set [kubernetes] kubeconfig = \"~/.kube/config\" (and context) in flytesharp.toml, or run inside a cluster with a service account", inner: ex);
        }
    }

    /// <summary>The namespace pods go to: <c>[kubernetes] namespace</c>, else the context's, else <c>default</c>.</summary>
    public static string Namespace(FlyteConfig config, KubernetesClientConfiguration configuration) =>
        config.KubernetesNamespace ?? configuration.Namespace ?? "default";
}
