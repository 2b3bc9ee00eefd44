using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlyteSharp.Cli;

/// <summary>
/// The one JSON convention of every <c>--json</c> output: camelCase property names, enums as camelCase strings, indented.
/// </summary>
internal static class CliJson
{
    /// <summary>The serializer options every command's <c>--json</c> uses.</summary>
    internal static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Serializes <paramref name="value"/> with <see cref="Options"/>.</summary>
    internal static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
