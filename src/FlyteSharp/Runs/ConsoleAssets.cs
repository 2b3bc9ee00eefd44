namespace FlyteSharp.Runs;

/// <summary>The console's script and style, embedded in the library and served from <c>/static/</c> (no CDN).</summary>
internal static class ConsoleAssets
{
    private static readonly Dictionary<string, (string ContentType, Lazy<string> Body)> Assets = new(StringComparer.Ordinal)
    {
        ["console.css"] = ("text/css; charset=utf-8", new(() => Read("console.css"))),
        ["console.js"] = ("text/javascript; charset=utf-8", new(() => Read("console.js"))),
    };

    /// <summary>The asset named <paramref name="name"/>, or null.</summary>
    public static (string ContentType, string Body)? Find(string name) =>
        Assets.TryGetValue(name, out var asset) ? (asset.ContentType, asset.Body.Value) : null;

    private static string Read(string name)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the FlyteSharp assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
