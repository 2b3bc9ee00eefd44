using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>Deterministic action ids: a hash of the parent's id, the task, the inputs and the call's sequence number.</summary>
internal static class ActionIds
{
    public static string Root(TaskDefinition task, string inputsJson) => "a" + TaskJson.Hash("", task.Name, inputsJson, "0")[..15];

    public static string Child(string parentId, TaskDefinition task, string inputsJson, int sequence) =>
        "a" + TaskJson.Hash(parentId, task.Name, inputsJson, sequence.ToString(System.Globalization.CultureInfo.InvariantCulture))[..15];
}
