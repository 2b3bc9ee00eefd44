using System.Text;
using FlyteSharp.Registry;

namespace FlyteSharp.Tests.Registry;

public class RegistryCredentialsTests
{
    private static string Json(string key, string auth) => "{\"auths\":{\"" + key + "\":{\"auth\":\"" + auth + "\"}}}";

    private static string Auth(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    [Fact]
    public void Find_RegistryAuthFileFirst_ThenXdgThenDocker()
    {
        using var t = new TempTree();
        var podman = t.Write("podman.json", Json("reg.example:5000", Auth("pod", "p1")));
        t.Write("xdg/containers/auth.json", Json("other.example", Auth("xdg", "p2")));
        t.Write("home/.docker/config.json", Json("https://docker.example/v1/", Auth("dock", "p:3")));
        var env = new Dictionary<string, string?> { ["REGISTRY_AUTH_FILE"] = podman, ["XDG_RUNTIME_DIR"] = t.PathOf("xdg"), ["HOME"] = t.PathOf("home") };

        Assert.Equal(new RegistryCredentials("pod", "p1"), RegistryCredentials.Find("reg.example:5000", env));
        Assert.Equal(new RegistryCredentials("xdg", "p2"), RegistryCredentials.Find("other.example", env));
        Assert.Equal(new RegistryCredentials("dock", "p:3"), RegistryCredentials.Find("docker.example", env));
        Assert.Null(RegistryCredentials.Find("unknown.example", env));
    }

    [Fact]
    public void FromFile_MalformedJson_ThrowsNamingFile()
    {
        using var t = new TempTree();
        var file = t.Write("auth.json", "{ not json");
        var ex = Assert.Throws<FlyteSharpException>(() => RegistryCredentials.FromFile(file, "h"));
        Assert.Equal(file, ex.File);
    }
}
