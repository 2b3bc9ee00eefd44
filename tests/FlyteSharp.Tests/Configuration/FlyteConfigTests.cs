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
    public void Load_SandboxMaxAge_ReadFromFileAndOverriddenByEnvironment()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), "[runs]\nsandbox_max_age = \"30m\"\n");

        var fromFile = FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>());
        var fromEnv = FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?> { ["FLYTESHARP_SANDBOX_MAX_AGE"] = "2d" });

        Assert.Equal(TimeSpan.FromMinutes(30), fromFile.SandboxMaxAge);
        Assert.Equal(TimeSpan.FromDays(2), fromEnv.SandboxMaxAge);
        Assert.Equal(TimeSpan.FromHours(1), new FlyteConfig().SandboxMaxAge);
    }

    [Theory]
    [InlineData("1 hour")]
    [InlineData("-5m")]
    [InlineData("h")]
    [InlineData("10w")]
    public void Load_MalformedSandboxMaxAge_NamesKeyFileAndFormat(string age)
    {
        var file = Path.Combine(_dir, "flytesharp.toml");
        File.WriteAllText(file, $"[runs]\nsandbox_max_age = \"{age}\"\n");

        var ex = Assert.Throws<FlyteSharpException>(() => FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>()));

        Assert.Contains("runs.sandbox_max_age must be an age like", ex.Message);
        Assert.Equal(file, ex.File);
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
        Assert.Equal(ExecutionMode.Kubernetes, config.Mode);
        Assert.Equal("ml", config.KubernetesNamespace);
        Assert.Equal(Path.Combine(_dir, "kube", "config"), config.KubeConfig);
        Assert.Equal("prod", config.KubernetesContext);
    }

    [Fact]
    public void Load_ControllerKeys_ReadFromTheKubernetesSectionAndOverriddenByEnvironment()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"),
            "[kubernetes]\ncontroller_listen = \"0.0.0.0:7443\"\ncontroller_url = \"http://driver.example:{port}\"\n");

        var fromFile = FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>());
        var fromEnv = FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?> { ["FLYTESHARP_CONTROLLER_LISTEN"] = "10.0.0.5:0" });

        Assert.Equal("0.0.0.0:7443", fromFile.ControllerListen);
        Assert.Equal("http://driver.example:{port}", fromFile.ControllerUrl);
        Assert.Equal("10.0.0.5:0", fromEnv.ControllerListen);
        Assert.Equal("127.0.0.1:0", new FlyteConfig().ControllerListen);
    }

    [Fact]
    public void Load_UnknownMode_ListsKubernetesAmongChoices()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), "[runs]\nmode = \"cluster\"\n");
        var ex = Assert.Throws<FlyteSharpException>(() => FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>()));
        Assert.Contains("local, container or kubernetes", ex.Message);
    }

    [Theory]
    [InlineData("[runs]\n# where actions run\n\nmode = \"Local\"\n", "runs.mode", 4, "local, container or kubernetes", "'Local'")]
    [InlineData("root_dir = \".\"\n[images]\nregistry = \"localhost:5000\"\nbuilder = \"kaniko\"\n", "images.builder", 4, "auto, podman or docker", "'kaniko'")]
    public void Load_UnknownClosedSetValue_NamesFileLineAndAllowedValues(string toml, string key, int line, string allowed, string value)
    {
        var file = Path.Combine(_dir, "flytesharp.toml");
        File.WriteAllText(file, toml);

        var ex = Assert.Throws<FlyteSharpException>(() => FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>()));

        Assert.Equal(file, ex.File);
        Assert.Equal(line, ex.Line);
        Assert.Contains($"{key} must be {allowed}, not {value}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FLYTESHARP_MODE", "pods", "local, container or kubernetes")]
    [InlineData("FLYTESHARP_BUILDER", "buildah", "auto, podman or docker")]
    public void Load_UnknownClosedSetValueInEnvironment_NamesTheVariable(string variable, string value, string allowed)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?> { [variable] = value }));

        Assert.Contains($"{variable} must be {allowed}, not '{value}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ModeAndBuilderNames_ReadAsEnums()
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), "[images]\nbuilder = \"docker\"\n[runs]\nmode = \"container\"\n");

        var config = FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>());

        Assert.Equal((ImageBuilderKind.Docker, ExecutionMode.Container), (config.Builder, config.Mode));
    }

    [Fact]
    public void Load_InlineOutputLimit_DefaultFileAndEnvironment()
    {
        Assert.Equal(1024 * 1024, FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>()).InlineOutputLimit);
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), "[runs]\ninline_output_limit = 65536\n");
        Assert.Equal(65536, FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?>()).InlineOutputLimit);
        Assert.Equal(4096, FlyteConfig.Load(workingDirectory: _dir, environment: new Dictionary<string, string?> { ["FLYTESHARP_INLINE_OUTPUT_LIMIT"] = "4096" }).InlineOutputLimit);
    }

    [Theory]
    [InlineData("[runs]\ninline_output_limit = 10\n", null, "at least 1024")]
    [InlineData("", "1MB", "must be a number of bytes")]
    [InlineData("", "-5", "must be a number of bytes")]
    public void Load_InlineOutputLimitInvalid_FailsWithFix(string toml, string? env, string expected)
    {
        File.WriteAllText(Path.Combine(_dir, "flytesharp.toml"), toml);
        var environment = new Dictionary<string, string?>();
        if (env is not null)
        {
            environment["FLYTESHARP_INLINE_OUTPUT_LIMIT"] = env;
        }

        var ex = Assert.Throws<FlyteSharpException>(() => FlyteConfig.Load(workingDirectory: _dir, environment: environment));

        Assert.Contains(expected, ex.Message);
        Assert.Contains("1048576", ex.Fix);
    }
}
