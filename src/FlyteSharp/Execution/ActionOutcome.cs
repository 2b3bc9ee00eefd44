namespace FlyteSharp.Execution;

/// <summary>An action's output as recorded (inline JSON or a blob), and its value when it was materialized.</summary>
internal sealed record ActionOutcome(TaskPayload Output, object? Value, bool HasValue);
