using System.Text.Json;

namespace FlyteSharp.Controller;

/// <summary>The body of every reply: <c>{"output": …}</c> on 200, <c>{"error": {…}}</c> otherwise.</summary>
/// <param name="Output">The child's output as JSON, on success.</param>
/// <param name="Error">Why the call failed or was refused.</param>
internal sealed record ControllerReply(JsonElement? Output, ControllerError? Error);
