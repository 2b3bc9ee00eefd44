namespace FlyteSharp.Building;

/// <summary>Asks a registry whether a tag exists (<c>HEAD /v2/&lt;name&gt;/manifests/&lt;tag&gt;</c>).</summary>
internal interface IImageTagProbe
{
    /// <exception cref="FlyteSharpException">The registry is unreachable or refuses the credentials.</exception>
    Task<bool> ExistsAsync(string registry, string repository, string tag, CancellationToken cancellationToken);
}
