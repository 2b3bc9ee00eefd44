using System.Text;
using System.Text.Json;

namespace FlyteSharp.Registry;

/// <summary>
/// Username/password for a registry host, read from the auth files docker and podman write on login:
/// <c>$REGISTRY_AUTH_FILE</c>, <c>${XDG_RUNTIME_DIR}/containers/auth.json</c>, <c>~/.config/containers/auth.json</c>,
/// <c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c> (first file with an entry for the host wins).
/// Credential helpers (<c>credsStore</c>) are not run.
/// </summary>
internal sealed record RegistryCredentials(string Username, string Password)
{
    public static RegistryCredentials? Find(string host, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Env(string name) => environment is not null
            ? environment.TryGetValue(name, out var v) ? v : null
            : Environment.GetEnvironmentVariable(name);

        var home = Env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var files = new List<string>();
        if (Env("REGISTRY_AUTH_FILE") is { Length: > 0 } f)
        {
            files.Add(f);
        }

        if (Env("XDG_RUNTIME_DIR") is { Length: > 0 } xdg)
        {
            files.Add(Path.Combine(xdg, "containers", "auth.json"));
        }

        files.Add(Path.Combine(home, ".config", "containers", "auth.json"));
        files.Add(Path.Combine(Env("DOCKER_CONFIG") is { Length: > 0 } dc ? dc : Path.Combine(home, ".docker"), "config.json"));

        foreach (var file in files)
        {
            if (File.Exists(file) && FromFile(file, host) is { } credentials)
            {
                return credentials;
            }
        }

        return null;
    }

    internal static RegistryCredentials? FromFile(string file, string host)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(file));
        }
        catch (JsonException ex)
        {
            throw new FlyteSharpException($"registry auth file is not valid JSON: {ex.Message}", file, (int?)ex.LineNumber + 1,
                "fix the file, or log in again (podman login / docker login)");
        }

        using (doc)
        {
            if (!doc.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var entry in auths.EnumerateObject())
            {
                if (!SameHost(entry.Name, host) || !entry.Value.TryGetProperty("auth", out var auth) || auth.GetString() is not { Length: > 0 } encoded)
                {
                    continue;
                }

                string decoded;
                try
                {
                    decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
                }
                catch (FormatException)
                {
                    throw new FlyteSharpException($"the 'auth' of '{entry.Name}' is not base64", file, fix: "log in again (podman login / docker login)");
                }

                var colon = decoded.IndexOf(':');
                if (colon < 0)
                {
                    throw new FlyteSharpException($"the 'auth' of '{entry.Name}' is not user:password", file, fix: "log in again (podman login / docker login)");
                }

                return new RegistryCredentials(decoded[..colon], decoded[(colon + 1)..]);
            }
        }

        return null;
    }

    // Keys are "host", "host/namespace", "https://host" or "https://host/v1/" (docker's legacy form).
    private static bool SameHost(string key, string host)
    {
        var k = key;
        foreach (var scheme in new[] { "https://", "http://" })
        {
            if (k.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                k = k[scheme.Length..];
            }
        }

        var slash = k.IndexOf('/');
        if (slash >= 0)
        {
            k = k[..slash];
        }

        return string.Equals(k, host, StringComparison.OrdinalIgnoreCase) ||
               (host == "docker.io" && k is "index.docker.io" or "registry-1.docker.io");
    }

    public string BasicHeader() => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));
}
