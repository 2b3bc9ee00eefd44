using System.Text.Json;

namespace FlyteSharp.Execution.Controller;

/// <summary>A child call's body as the server read it.</summary>
/// <param name="Task">The child's task name.</param>
/// <param name="Environment">Its environment's name, when the caller gave one.</param>
/// <param name="Inputs">An object of inputs by name, or an array by position.</param>
internal sealed record ChildCallRequest(string Task, string? Environment, JsonElement Inputs);
