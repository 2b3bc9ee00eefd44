using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlyteSharp;

/// <summary>
/// The one JSON convention of everything FlyteSharp prints or serves (every <c>--json</c>, the console's <c>/api</c>):
/// camelCase property names, enums as camelCase strings, times as ISO-8601 UTC (<c>2026-11-27T09:41:44.123Z</c>), indented.
/// Tools that print FlyteSharp's records next to its own output use it to print them the same way.
/// </summary>
public static class JsonConvention
{
    /// <summary>The serializer options.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null, // keys are data (env var names, output keys), not property names
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase), new UtcTimeConverter() },
    };

    /// <summary>Serializes <paramref name="value"/> with <see cref="Options"/>.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Writes every <see cref="DateTimeOffset"/> in UTC with a <c>Z</c>, milliseconds precision.</summary>
    private sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}
