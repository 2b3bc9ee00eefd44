namespace FlyteSharp.Storage;

/// <summary>Validates named-object keys so no key can address anything outside its store.</summary>
internal static class ObjectKeys
{
    public static string Validate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parts = key.Split('/');
        if (key.Length == 0 || key.Length > 512 || parts.Any(p => p.Length == 0 || p is "." or ".." || p.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))))
        {
            throw new FlyteSharpException($"invalid object key '{key}'",
                fix: "use a relative path of segments made of letters, digits, '.', '_' and '-' (no '..', no leading or double '/')");
        }

        return key;
    }
}
