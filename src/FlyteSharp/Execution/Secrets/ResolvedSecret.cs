using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Secrets;

/// <summary>A secret reference with its value, looked up for one run. Never serialized, logged or recorded.</summary>
/// <param name="Secret">The reference.</param>
/// <param name="Value">The value.</param>
internal sealed record ResolvedSecret(Secret Secret, string Value)
{
    /// <summary>Keeps the value out of any accidental <c>ToString</c> (logs, exception messages, debugger displays).</summary>
    public override string ToString() => $"ResolvedSecret({Secret.DisplayName})";
}
