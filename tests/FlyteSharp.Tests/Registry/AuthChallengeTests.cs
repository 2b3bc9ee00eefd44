using FlyteSharp.Registry;

namespace FlyteSharp.Tests.Registry;

public class AuthChallengeTests
{
    [Fact]
    public void Parse_BearerChallenge_ReadsRealmServiceScope()
    {
        var c = AuthChallenge.Parse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\"")!;
        Assert.Equal("Bearer", c.Scheme);
        Assert.Equal("https://auth.example/token", c["realm"]);
        Assert.Equal("registry.example", c["service"]);
        Assert.Equal("repository:a/b:pull,push", c["scope"]);
    }

    [Fact]
    public void Parse_BasicChallengeAndEmpty_Handled()
    {
        Assert.Equal("Basic", AuthChallenge.Parse("Basic realm=\"Registry Realm\"")!.Scheme);
        Assert.Null(AuthChallenge.Parse(""));
    }
}
