using System.Text.RegularExpressions;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace FlyteSharp.Configuration;

/// <summary>
/// The one TOML reader of FlyteSharp (flytesharp.toml, pyproject.toml, uv.lock): a parsed file that keeps where each key was
/// written, so errors can point at the line of a key.
/// </summary>
internal sealed partial class TomlDocument
{
    private readonly string[] _lines;
    private readonly TomlMetadataStore _metadata;

    private TomlDocument(string file, string text, TomlTable root, TomlMetadataStore metadata)
    {
        File = file;
        Root = root;
        _lines = text.Split('\n');
        _metadata = metadata;
    }

    /// <summary>Full path of the file.</summary>
    public string File { get; }

    /// <summary>The document's root table.</summary>
    public TomlTable Root { get; }

    /// <summary>Reads and parses <paramref name="file"/>; malformed TOML becomes an error with the file and line.</summary>
    /// <param name="file">The file.</param>
    /// <param name="what">What it is, for messages (<c>pyproject.toml</c>).</param>
    /// <param name="syntaxFix">The fix for malformed TOML (default: fix the syntax; a generated file says how to regenerate it).</param>
    public static TomlDocument Load(string file, string what, string? syntaxFix = null)
    {
        file = Path.GetFullPath(file);
        if (!System.IO.File.Exists(file))
        {
            throw new FlyteSharpException($"{what} not found", file,
                fix: System.IO.Directory.Exists(file) ? $"point at the {Path.GetFileName(what)} file inside the folder, not the folder" : "check the path (relative paths are resolved against the current directory; use SourceLocation.Combine to resolve against your source file)");
        }

        var text = System.IO.File.ReadAllText(file);
        try
        {
            var metadata = new TomlMetadataStore();
            var root = TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions { SourceName = file, MetadataStore = metadata }) ?? new TomlTable();
            return new TomlDocument(file, text, root, metadata);
        }
        catch (TomlException ex)
        {
            var first = ex.Message.Split('\n')[0];
            throw new FlyteSharpException($"malformed TOML: {first}", file, ex.Line > 0 ? ex.Line : null,
                syntaxFix ?? "fix the TOML syntax (https://toml.io)", ex);
        }
    }

    /// <summary>The 1-based line where <paramref name="key"/> is written in <paramref name="table"/> (a table of this document), or null.</summary>
    public int? LineOf(TomlTable table, string key) =>
        _metadata.TryGetProperties(table, out var properties) && properties is not null && properties.TryGetProperty(key, out var property) && property is not null
            ? property.Span.Start.Line + 1 // Tomlyn counts lines from 0
            : null;

    /// <summary>The 1-based line where <paramref name="key"/> is assigned inside table <paramref name="table"/> (dotted, e.g. <c>tool.uv.sources</c>), or of the table header; null if not found.</summary>
    public int? LineOf(string table, string? key = null)
    {
        var inTable = table.Length == 0;
        for (var i = 0; i < _lines.Length; i++)
        {
            var line = _lines[i].Trim();
            var header = Header().Match(line);
            if (header.Success)
            {
                var name = Regex.Replace(header.Groups[1].Value, @"\s|""", "");
                inTable = name == table;
                if (inTable && key is null)
                {
                    return i + 1;
                }

                continue;
            }

            if (inTable && key is not null)
            {
                var m = KeyLine().Match(line);
                if (m.Success && m.Groups[1].Value.Trim('"', '\'') == key)
                {
                    return i + 1;
                }
            }
        }

        return null;
    }

    [GeneratedRegex(@"^\[\[?([^\]]+)\]\]?")]
    private static partial Regex Header();

    [GeneratedRegex(@"^(""[^""]+""|'[^']+'|[A-Za-z0-9_.-]+)\s*=")]
    private static partial Regex KeyLine();
}
