using System.Text.Json.Serialization;

namespace FlyteSharp.Tasks;

/// <summary>What a task's body is written in.</summary>
/// <remarks>
/// Written as <c>csharp</c> and <c>python</c> wherever it is stored or served (run store, deployment records, JSON), with any
/// serializer options: those names are in existing stores and must not follow a naming policy.
/// </remarks>
[JsonConverter(typeof(JsonStringEnumConverter<TaskKind>))]
public enum TaskKind
{
    /// <summary>A C# delegate, run in-process.</summary>
    [JsonStringEnumMemberName(TaskKinds.CSharpName)]
    CSharp = 0,

    /// <summary>A Python function (<c>module:function</c>) shipped in the code bundle.</summary>
    [JsonStringEnumMemberName(TaskKinds.PythonName)]
    Python = 1,
}
