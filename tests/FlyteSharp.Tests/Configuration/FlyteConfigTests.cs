using FlyteSharp.Configuration;

namespace FlyteSharp.Tests.Configuration;

public sealed class FlyteConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flytesharp-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_NoFile_UsesDefaultsUnderHome()
    {
        var config = FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?> { ["FLYTESHARP_HOME"] = _dir });
        Assert.Null(config.SourceFile);
        Assert.Equal(Path.Combine(_dir, "runs.db"), config.EffectiveRunDatabase);
        Assert.StartsWith("file://", config.EffectiveStoreUri);
    }

    [Fact]
    public void Load_ProjectFileInParent_IsFoundAndResolvedRelativeToIt()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), "root_dir = \"src\"\n[images]\nregistry = \"example.com:5000/team\"\n");
        var nested = Directory.CreateDirectory(Path.Combine(_dir, "a", "b")).FullName;
        var config = FlyteConfig.Load(workingDirectory: nested, environment: new Dictionary<string, string?>());
        Assert.Equal(Path.Combine(_dir, "src"), config.RootDir);
        Assert.Equal("example.com:5000/team", config.Registry);
    }

    [Fact]
    public void Load_EnvironmentVariable_OverridesFile()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), "[images]\nregistry = \"from-file:5000\"\n");
        var config = FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?> { ["FLYTESHARP_REGISTRY"] = "from-env:5000" });
        Assert.Equal("from-env:5000", config.Registry);
    }

    [Fact]
    public void Load_MalformedToml_NamesFileAndLine()
    {
        var file = Path.Combine(_dir, "flytesharp.toml");
        File.WriteAllText(file, "[images]\nregistry = \n");
        var ex = Assert.Throws<FlyteSharpException>(() => FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>()));
        Assert.Equal(file, ex.File);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Load_WrongType_NamesKey()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), "[runs]\nmax_concurrency = \"lots\"\n");
        var ex = Assert.Throws<FlyteSharpException>(() => FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>()));
        Assert.Contains("max_concurrency", ex.Message);
    }

    [Fact]
    public void Load_KubernetesSection_ReadsModeNamespaceKubeconfigAndContext()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"),
            "[runs]\nmode = \"kubernetes\"\n[storage]\nuri = \"oci://registry.example.com/team/bundles\"\n" +
            "[kubernetes]\nnamespace = \"ml\"\nkubeconfig = \"kube/config\"\ncontext = \"prod\"\n");
        var config = FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>());
        Assert.Equal("kubernetes", config.Mode);
        Assert.Equal("ml", config.KubernetesNamespace);
        Assert.Equal(Path.Combine(_dir, "kube", "config"), config.KubeConfig);
        Assert.Equal("prod", config.KubernetesContext);
    }

    [Fact]
    public void Load_UnknownMode_ListsKubernetesAmongChoices()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), "[runs]\nmode = \"cluster\"\n");
        var ex = Assert.Throws<FlyteSharpException>(() => FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>()));
        Assert.Contains("local, container or kubernetes", ex.Message);
    }
}
