using FlyteSharp.Configuration;
using FlyteSharp.Execution.Kubernetes;

namespace FlyteSharp.Tests.Execution.Kubernetes;

public sealed class KubernetesClientsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flytesharp-kube-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Configuration_KubeconfigWithContext_UsesItsServerAndNamespace()
    {
        var file = WriteKubeconfig();
        var config = new FlyteConfig { KubeConfig = file, KubernetesContext = "ml" };

        var configuration = KubernetesClients.Configuration(config);

        Assert.Equal("https://ml.example.com:6443/", configuration.Host.TrimEnd('/') + "/");
        Assert.Equal("team-ml", KubernetesClients.Namespace(config, configuration));
        Assert.Equal("flytesharp", KubernetesClients.Namespace(config with { KubernetesNamespace = "flytesharp" }, configuration));
    }

    [Fact]
    public void Configuration_CurrentContextWithoutNamespace_DefaultNamespace()
    {
        var config = new FlyteConfig { KubeConfig = WriteKubeconfig() };

        var configuration = KubernetesClients.Configuration(config);

        Assert.StartsWith("https://dev.example.com:6443", configuration.Host);
        Assert.Equal("default", KubernetesClients.Namespace(config, configuration));
    }

    [Fact]
    public void Configuration_MissingKubeconfig_ThrowsNamingFileAndFix()
    {
        var missing = Path.Combine(_dir, "nope");

        var ex = Assert.Throws<FlyteSharpException>(() => KubernetesClients.Configuration(new FlyteConfig { KubeConfig = missing }));

        Assert.Equal(missing, ex.File);
        Assert.Contains("[kubernetes] kubeconfig", ex.Fix);
    }

    [Fact]
    public void Configuration_UnknownContext_ThrowsWithFix()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => KubernetesClients.Configuration(new FlyteConfig { KubeConfig = WriteKubeconfig(), KubernetesContext = "nope" }));

        Assert.Contains("nope", ex.Message);
        Assert.Contains("kubeconfig", ex.Fix);
    }

    private string WriteKubeconfig()
    {
        var file = Path.Combine(_dir, "config");
        File.WriteAllText(file, """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: dev
              cluster:
                server: https://dev.example.com:6443
            - name: ml
              cluster:
                server: https://ml.example.com:6443
            users:
            - name: me
              user:
                token: not-a-real-token
            contexts:
            - name: dev
              context:
                cluster: dev
                user: me
            - name: ml
              context:
                cluster: ml
                user: me
                namespace: team-ml
            """);
        return file;
    }
}
