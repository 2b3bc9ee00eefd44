using FlyteSharp.Execution.Containers;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Containers;

public class ContainerRunSpecTests
{
    private static readonly ContainerImage Image = new("localhost:5000/flytesharp:abc", "/opt/venv/bin/python", "/opt/flytesharp/flytesharp_runner.py", null, InsecureRegistry: true);

    private static ContainerRunSpec Spec(Resources resources, ContainerBundleSource? bundle, ContainerImage? image = null) => new(
        "podman", "flytesharp-run1-1-abcdef", image ?? Image, resources, "/tmp/io dir", bundle, bundle is null ? null : "sha256:" + new string('a', 64),
        ["--task", "pkg.mod:fn"], new Dictionary<string, string> { ["flytesharp.run"] = "run1" });

    [Fact]
    public void Arguments_CpuAndMemory_MapToCpusAndMemoryWithoutSwap()
    {
        var args = Spec(new Resources(Cpu: "500m", Memory: "64Mi"), null).Arguments();

        Assert.Equal("0.5", After(args, "--cpus"));
        Assert.Equal("67108864b", After(args, "--memory"));
        Assert.Equal("67108864b", After(args, "--memory-swap"));
    }

    [Fact]
    public void Arguments_NoNetworkAndRemoveOnExit_NetworkNoneAndRmEvenForAHostNetworkBundle()
    {
        var bundle = ContainerBundleSource.For("oci://127.0.0.1:5000/flytesharp/bundles", null, "sha256:" + new string('a', 64), "oci://127.0.0.1:5000/flytesharp/bundles", ["127.0.0.1:5000"]);
        Assert.True(bundle.HostNetwork);

        var plain = Spec(new Resources(), null).Arguments();
        var isolated = (Spec(new Resources(), bundle) with { NoNetwork = true, RemoveOnExit = true }).Arguments();

        Assert.DoesNotContain("--network", plain);
        Assert.DoesNotContain("--rm", plain);
        Assert.Equal("none", After(isolated, "--network"));
        Assert.Single(isolated, a => a == "--network");
        Assert.Contains("--rm", isolated);
        Assert.True(isolated.ToList().IndexOf("--rm") < isolated.ToList().IndexOf(Image.Uri), "--rm must come before the image");
    }

    [Fact]
    public void Arguments_EnvVarsAndSecretMounts_EnvAsEnvSecretsOnlyAsReadOnlyFiles()
    {
        var dir = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));
        try
        {
            var secrets = new[]
            {
                new FlyteSharp.Execution.Secrets.ResolvedSecret(new Secret("api_token"), "value-one"),
                new FlyteSharp.Execution.Secrets.ResolvedSecret(new Secret("cert", Mount: "/etc/certs"), "value-two"),
            };
            Directory.CreateDirectory(dir);
            var (runnerArgs, mounts) = ContainerPythonExecutor.SecretDelivery(secrets, dir);
            var spec = Spec(new Resources(), null) with
            {
                RunnerArguments = [.. runnerArgs, "--task", "pkg.mod:fn"],
                EnvVars = new Dictionary<string, string> { ["LOG_LEVEL"] = "debug" },
                SecretMounts = mounts,
            };

            var args = spec.Arguments();

            Assert.Contains("LOG_LEVEL=debug", args);
            Assert.Contains($"{Path.Combine(dir, "0")}:/run/flytesharp/secrets/0:ro", args);
            Assert.Contains($"{Path.Combine(dir, "1")}:/etc/certs/cert:ro", args);
            Assert.Equal("API_TOKEN=/run/flytesharp/secrets/0", After(args, "--secret-env"));
            Assert.DoesNotContain(args, a => a.Contains("value-one", StringComparison.Ordinal) || a.Contains("value-two", StringComparison.Ordinal));
            Assert.Equal("value-one", File.ReadAllText(Path.Combine(dir, "0")));
            Assert.Equal("value-two", File.ReadAllText(Path.Combine(dir, "1")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Arguments_StandardInput_AttachesStdinBeforeTheImage()
    {
        using var input = new MemoryStream();
        var plain = Spec(new Resources(), null).Arguments();
        var args = (Spec(new Resources(), null) with { StandardInput = input }).Arguments();

        Assert.DoesNotContain("--interactive", plain);
        Assert.Contains("--interactive", args);
        Assert.True(args.ToList().IndexOf("--interactive") < args.ToList().IndexOf(Image.Uri));
    }

    [Fact]
    public void Arguments_NoResources_SetsNoLimits()
    {
        var args = Spec(new Resources(), null).Arguments();

        Assert.DoesNotContain("--cpus", args);
        Assert.DoesNotContain("--memory", args);
    }

    [Fact]
    public void Arguments_FileStoreBundle_MountsStoreReadOnlyAndPassesDigest()
    {
        var bundle = new ContainerBundleSource("/flytesharp/store/blobs/x", [("/home/u/.flytesharp/store", "/flytesharp/store")], false);

        var args = Spec(new Resources(), bundle).Arguments();

        Assert.Contains("/home/u/.flytesharp/store:/flytesharp/store:ro", args);
        Assert.Contains("/tmp/io dir:/flytesharp/io", args);
        Assert.Equal("/flytesharp/store/blobs/x", After(args, "--bundle"));
        Assert.Equal("sha256:" + new string('a', 64), After(args, "--digest"));
        Assert.Equal(ContainerRunSpec.BundleDirectory, After(args, "--bundle-dir"));
        Assert.DoesNotContain("--rm", args);
        Assert.Equal("flytesharp-run1-1-abcdef", After(args, "--name"));
    }

    [Fact]
    public void Arguments_ImageWithBakedCode_RunsFromCodeDirectoryWithoutBundle()
    {
        var args = Spec(new Resources(), null, Image with { CodeDirectory = "/root" }).Arguments();

        Assert.DoesNotContain("--bundle", args);
        Assert.DoesNotContain("--digest", args);
        Assert.Equal("/root", After(args, "--bundle-dir"));
    }

    [Fact]
    public void Arguments_ImageThenInterpreterThenRunner_InThatOrder()
    {
        var args = Spec(new Resources(), null).Arguments().ToList();
        var i = args.IndexOf(Image.Uri);

        Assert.Equal(["/opt/venv/bin/python", "/opt/flytesharp/flytesharp_runner.py"], args.Skip(i + 1).Take(2));
        Assert.Contains("--tls-verify=false", args.Take(i));
        Assert.Equal("flytesharp.run=run1", After(args, "--label"));
    }

    private static string After(IReadOnlyList<string> args, string flag)
    {
        var i = args.ToList().IndexOf(flag);
        Assert.True(i >= 0, $"{flag} missing from: {string.Join(' ', args)}");
        return args[i + 1];
    }

    [Fact]
    public void Arguments_PrivateRegistryBundle_MountsCredentialsReadOnlyAndPassesOnlyTheirPath()
    {
        var bundle = new ContainerBundleSource("https://registry.example/v2/team/bundles/blobs/sha256:" + new string('a', 64), [], false, ("registry.example", "team/bundles"));
        var spec = Spec(new Resources(), bundle) with { BundleAuthFile = "/home/u/.flytesharp/runs/r/containers/auth-1.json" };

        var args = spec.Arguments();

        Assert.Contains($"/home/u/.flytesharp/runs/r/containers/auth-1.json:{RunnerCommand.BundleAuthFile}:ro", args);
        Assert.Equal(RunnerCommand.BundleAuthFile, After(args, "--bundle-auth-file"));
        Assert.Equal(FlyteSharp.Registry.RegistryRetry.MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture), After(args, "--fetch-attempts"));
        Assert.Equal("0.2", After(args, "--fetch-backoff"));
        Assert.DoesNotContain(args, a => a.StartsWith("FLYTESHARP_", StringComparison.Ordinal) || a.Contains("authorization", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Arguments_FileStoreBundle_HasNoDownloadOrCredentialArguments()
    {
        var args = Spec(new Resources(), new ContainerBundleSource("/flytesharp/store/blobs/x", [("/s", "/flytesharp/store")], false)).Arguments();

        Assert.DoesNotContain("--fetch-attempts", args);
        Assert.DoesNotContain("--bundle-auth-file", args);
    }
}
