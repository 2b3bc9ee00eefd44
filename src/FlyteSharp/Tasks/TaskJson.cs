using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlyteSharp.Tasks;

/// <summary>
/// How values cross task boundaries and reach the run store: JSON with snake_case property names, so a
/// C# record <c>Model(double Mean)</c> is the Python dict <c>{"mean": …}</c>; dictionary keys are kept as they are.
/// </summary>
internal static class TaskJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
        WriteIndented = false,
    };

    /// <summary>Serializes a task's inputs as one JSON object keyed by parameter name.</summary>
    public static string SerializeInputs(TaskDefinition task, IReadOnlyList<TaskParameter> parameters, object?[] inputs)
    {
        var obj = new JsonObject();
        for (var i = 0; i < parameters.Count; i++)
        {
            try
            {
                obj[parameters[i].Name] = JsonSerializer.SerializeToNode(inputs[i], parameters[i].Type, Options);
            }
            catch (Exception ex) when (ex is NotSupportedException or ArgumentException or JsonException or InvalidOperationException)
            {
                throw new FlyteSharpException(
                    $"input '{parameters[i].Name}' of task '{task.Name}' ({TypeNames.Describe(parameters[i].Type)}) cannot be carried as JSON: {ex.Message}",
                    fix: "pass numbers, strings, bools, lists, dictionaries or records of those");
            }
        }

        return obj.ToJsonString(Options);
    }

    /// <summary>Serializes an output for the run store and the cache.</summary>
    public static string SerializeOutput(TaskDefinition task, object? value)
    {
        try
        {
            return JsonSerializer.Serialize(value, task.OutputType, Options);
        }
        catch (Exception ex) when (ex is NotSupportedException or ArgumentException or JsonException or InvalidOperationException)
        {
            throw new FlyteSharpException(
                $"the output of task '{task.Name}' ({TypeNames.Describe(task.OutputType)}) cannot be carried as JSON: {ex.Message}",
                fix: "return numbers, strings, bools, lists, dictionaries or records of those");
        }
    }

    /// <summary>Reads a JSON output into the task's output type, naming the task and the type when it does not fit.</summary>
    public static object? DeserializeOutput(TaskDefinition task, string json)
    {
        try
        {
            var value = JsonSerializer.Deserialize(json, task.OutputType, Options);
            if (value is null && task.OutputType.IsValueType && Nullable.GetUnderlyingType(task.OutputType) is null)
            {
                throw new JsonException("null is not a value of a non-nullable type");
            }

            return value;
        }
        catch (JsonException ex)
        {
            throw new FlyteSharpException(
                $"task '{task.Name}' returned {Abbreviate(json)}, which is not a {TypeNames.Describe(task.OutputType)}: {ex.Message}",
                fix: $"make the function return a value that fits {TypeNames.Describe(task.OutputType)}, or change the declared output type");
        }
    }

    /// <summary>Converts one input given as JSON (or a bare string) to its parameter's type, naming the parameter on failure.</summary>
    public static object? ParseInput(TaskDefinition task, TaskParameter parameter, string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            // Bare words are strings, so `--input name=alice` works without quotes.
            node = JsonValue.Create(text);
        }

        try
        {
            var value = node.Deserialize(parameter.Type, Options);
            if (value is null && parameter.Type.IsValueType && Nullable.GetUnderlyingType(parameter.Type) is null)
            {
                throw new JsonException("null is not allowed");
            }

            return value;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new FlyteSharpException(
                $"input '{parameter.Name}' of task '{task.Name}' must be a {TypeNames.Describe(parameter.Type)}, but '{Abbreviate(text)}' is not",
                fix: $"pass {parameter.Name}= a JSON value of type {TypeNames.Describe(parameter.Type)}, e.g. {Example(parameter.Type)}");
        }
    }

    /// <summary>Lower-case hex SHA-256 of length-prefixed parts (no ambiguity between parts).</summary>
    public static string Hash(params string[] parts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in parts)
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            sha.AppendData(length);
            sha.AppendData(bytes);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string Abbreviate(string text) => text.Length <= 80 ? text : text[..77] + "...";

    private static string Example(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) => "10",
        _ when type == typeof(double) || type == typeof(float) => "1.5",
        _ when type == typeof(bool) => "true",
        _ when type == typeof(string) => "\"text\"",
        _ when type.IsArray || (type.IsGenericType && type.GetGenericTypeDefinition() is var g && (g == typeof(List<>) || g == typeof(IReadOnlyList<>) || g == typeof(IList<>) || g == typeof(IEnumerable<>))) => "[1.5, 3.0]",
        _ => "{\"key\": 1}",
    };
}
