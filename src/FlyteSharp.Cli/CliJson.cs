using System.Text.Json;

namespace FlyteSharp.Cli;

/// <summary>
/// The one JSON convention of every <c>--json</c> output, shared with the console's <c>/api</c> (<see cref="JsonConvention"/>):
/// camelCase property names, enums as camelCase strings, ISO-8601 UTC times, indented.
/// </summary>
internal static class CliJson
{
    /// <summary>The serializer options every command's <c>--json</c> uses.</summary>
    internal static JsonSerializerOptions Options => JsonConvention.Options;

    /// <summary>Serializes <paramref name="value"/> with <see cref="Options"/>.</summary>
    internal static string Serialize<T>(T value) => JsonConvention.Serialize(value);
}
