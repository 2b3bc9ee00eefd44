using Tomlyn;
using Tomlyn.Parsing;
using Tomlyn.Syntax;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace FlyteSharp.Configuration;

/// <summary>
/// The one TOML reader of FlyteSharp (flytesharp.toml, pyproject.toml, uv.lock): a parsed file that keeps where each key was
/// written, so errors can point at the line of a key.
/// </summary>
internal sealed class TomlDocument
{
    private readonly string _text;
    private readonly TomlMetadataStore _metadata;
    private DocumentSyntax? _syntax;

    private TomlDocument(string file, string text, TomlTable root, TomlMetadataStore metadata)
    {
        File = file;
        Root = root;
        _text = text;
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

    /// <summary>
    /// The 1-based line where <paramref name="table"/>'s first key is written (for an entry of an array of tables, a line inside
    /// that entry rather than the first entry's header), or null when it has no keys.
    /// </summary>
    public int? LineOf(TomlTable table) =>
        _metadata.TryGetProperties(table, out var properties) && properties is not null
            ? table.Keys.Select(k => properties.TryGetProperty(k, out var p) && p is not null ? p.Span.Start.Line + 1 : (int?)null).Min()
            : null;

    /// <summary>
    /// The 1-based line of item <paramref name="index"/> of the array at <paramref name="keyPath"/> (e.g. <c>tool</c>, <c>uv</c>,
    /// <c>workspace</c>, <c>members</c>), however the file spells the path (table headers, dotted keys, inline tables), or null.
    /// </summary>
    public int? LineOfItem(IReadOnlyList<string> keyPath, int index)
    {
        var syntax = _syntax ??= SyntaxParser.Parse(_text, File, validate: false);
        var array = FindArray(syntax.KeyValues, [], keyPath);
        foreach (var table in syntax.Tables)
        {
            array ??= table.Name is { } name ? FindArray(table.Items, KeyPath(name), keyPath) : null;
        }

        return array is not null && index < array.Items.ChildrenCount ? array.Items.GetChild(index)!.Span.Start.Line + 1 : null;
    }

    private static ArraySyntax? FindArray(IEnumerable<KeyValueSyntax> keyValues, List<string> prefix, IReadOnlyList<string> keyPath)
    {
        foreach (var keyValue in keyValues)
        {
            if (keyValue.Key is not { } key)
            {
                continue;
            }

            var path = prefix.Concat(KeyPath(key)).ToList();
            if (keyValue.Value is ArraySyntax array && path.SequenceEqual(keyPath, StringComparer.Ordinal))
            {
                return array;
            }

            if (keyValue.Value is InlineTableSyntax inline && keyPath.Take(path.Count).SequenceEqual(path, StringComparer.Ordinal) &&
                FindArray(inline.Items.Select(i => i.KeyValue).OfType<KeyValueSyntax>(), path, keyPath) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    private static List<string> KeyPath(KeySyntax key) =>
        [KeyText(key.Key), .. key.DotKeys.Select(d => KeyText(d.Key))];

    private static string KeyText(BareKeyOrStringValueSyntax? key) => key switch
    {
        BareKeySyntax bare => bare.Key?.Text ?? "",
        StringValueSyntax quoted => quoted.Value ?? "",
        _ => "",
    };
}
