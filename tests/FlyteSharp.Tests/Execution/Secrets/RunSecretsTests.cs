using FlyteSharp.Configuration;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Secrets;

public class RunSecretsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private RunSecrets Secrets(Dictionary<string, string>? environment = null) =>
        new(new FlyteConfig { Home = _dir, SecretsDirectory = Path.Combine(_dir, "secrets") },
            name => environment is not null && environment.TryGetValue(name, out var v) ? v : null);

    private static TaskEnvironment Env(params Secret[] secrets) => new("etl", Image.FromDebianBase(), secrets: secrets);

    [Fact]
    public void Resolve_EnvironmentVariableSet_WinsOverFile()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "secrets"));
        File.WriteAllText(Path.Combine(_dir, "secrets", "api_key"), "from-file");

        var resolved = Secrets(new() { ["FLYTESHARP_SECRET_API_KEY"] = "from-env" }).Resolve(Env(new Secret("api_key")));

        Assert.Equal("from-env", Assert.Single(resolved).Value);
    }

    [Fact]
    public void Resolve_FileWithTrailingNewline_ValueWithoutIt()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "secrets", "aws"));
        File.WriteAllText(Path.Combine(_dir, "secrets", "aws", "id"), "AKIA-line-1\nline-2\n");

        var resolved = Secrets().Resolve(Env(new Secret("id", Group: "aws")));

        Assert.Equal("AKIA-line-1\nline-2", Assert.Single(resolved).Value);
    }

    [Fact]
    public void Resolve_Missing_NamesSecretVariableAndFile()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Secrets().Resolve(Env(new Secret("db-password", Group: "prod"))));

        Assert.Contains("secret prod/db-password of task environment 'etl' was not found", ex.Message);
        Assert.Contains("FLYTESHARP_SECRET_PROD_DB_PASSWORD is not set", ex.Message);
        Assert.Contains(Path.Combine(_dir, "secrets", "prod", "db-password") + " does not exist", ex.Message);
    }

    [Fact]
    public void Resolve_EmptyFile_IsMissingAndSaysEmpty()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "secrets"));
        File.WriteAllText(Path.Combine(_dir, "secrets", "token"), "\n");

        var ex = Assert.Throws<FlyteSharpException>(() => Secrets().Resolve(Env(new Secret("token"))));

        Assert.Contains(Path.Combine(_dir, "secrets", "token") + " is empty", ex.Message);
    }

    [Fact]
    public void Redact_ResolvedValues_MaskedInTextIncludingEachLineOfMultiLineValues()
    {
        var secrets = Secrets(new() { ["FLYTESHARP_SECRET_A"] = "s3cr3t-value", ["FLYTESHARP_SECRET_B"] = "first-line\nsecond-line" });
        secrets.Resolve(Env(new Secret("a"), new Secret("b")));

        Assert.Equal("token=*** ok", secrets.Redact("token=s3cr3t-value ok"));
        Assert.Equal("*** and ***", secrets.Redact("first-line and second-line"));
        Assert.Equal("nothing here", secrets.Redact("nothing here"));
    }

    [Fact]
    public void Protect_TheRunsControllerToken_IsMaskedLikeASecret()
    {
        var secrets = Secrets(new());
        var token = FlyteSharp.Execution.Controller.ControllerToken.Create().Value;

        secrets.Protect(token);

        Assert.Equal("Authorization: Bearer ***", secrets.Redact("Authorization: Bearer " + token));
    }

    [Fact]
    public void Redact_BeforeAnyResolve_ReturnsTextUnchanged()
    {
        Assert.Equal("s3cr3t-value", Secrets(new() { ["FLYTESHARP_SECRET_A"] = "s3cr3t-value" }).Redact("s3cr3t-value"));
    }

    [Fact]
    public void ResolvedSecret_ToString_DoesNotShowValue()
    {
        var resolved = new ResolvedSecret(new Secret("k"), "the-value");

        Assert.DoesNotContain("the-value", resolved.ToString());
        Assert.DoesNotContain("the-value", $"{resolved}");
    }
}
